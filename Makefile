# Two entry points: `make report` and `make test`. Each builds its own
# environment (.venv, from requirements.lock) on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: report test test-fast lint

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

report: $(STAMP)
	$(VENV)/bin/python -m analysis report

# Lint, format check and the import-linter layer contracts first, then every test.
test: lint
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

# The quick check: every pure function and bad-input path, the CLI in-process;
# not the tests marked slow (the network on all fields, renders, the browser,
# dask clusters, training, the install).
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow"
