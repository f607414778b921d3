# Every target creates or reuses the virtual environment and installs the pinned versions.
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
CONSTRAINTS := constraints/airflow-$(AIRFLOW_VERSION).txt
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)
PYTEST_ARGS ?=
# On Airflow 2.x the compat layer's base classes are typed Any; everything else stays strict.
MYPY_FLAGS := $(if $(filter 2.%,$(AIRFLOW_VERSION)),--allow-subclassing-any,)

.PHONY: venv demo test lint typecheck bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c $(CONSTRAINTS) "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev,bench]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy $(MYPY_FLAGS) wrk_provider

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
