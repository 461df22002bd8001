# Two entry points: `make report` and `make test`. Each builds its own
# environment (.venv, from requirements.lock) on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: report test

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

report: $(STAMP)
	$(VENV)/bin/python -m analysis report

test: $(STAMP)
	$(VENV)/bin/python -m pytest
