# Two entry points: `make report` and `make test`. Each builds its own
# environment (.venv, from requirements.lock) on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# cffconvert, which validates CITATION.cff, pins an older jsonschema than the
# lesson's: it gets a small environment of its own.
CFF_VENV := .venv-cff
CFF := $(CFF_VENV)/.installed
CFF_PINS := cffconvert==2.0.0 jsonschema==3.2.0 pykwalify==1.8.0 ruamel.yaml==0.19.1 click==8.5.1 \
	requests==2.34.2 attrs==26.1.0 pyrsistent==0.20.0 docopt==0.6.2 python-dateutil==4.0.0 six==1.17.0

.PHONY: report test test-fast lint

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(CFF):
	$(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet $(CFF_PINS)
	touch $@

report: $(STAMP)
	$(VENV)/bin/python -m analysis report

# Tests run in TEST_WORKERS processes (pytest-xdist), each test file in one of
# them, so that a file's shared fixtures are computed once.
TEST_WORKERS ?= 2
PYTEST := $(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Lint, format check and the import-linter layer contracts first, then every test.
test: lint
	$(PYTEST)

lint: $(STAMP) $(CFF)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(CFF_VENV)/bin/cffconvert --validate --infile CITATION.cff

# The quick check: every pure function and bad-input path, the CLI in-process;
# not the tests marked slow (the network on all fields, renders, the browser,
# dask clusters, training, the install).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"
