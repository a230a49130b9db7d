# The two commands of the README, plus a few helpers. Each sets up its own virtual
# environment (.venv) on first use from pyproject.toml pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed

# dbt, dagster and sqlfluff from the project environment come first on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: run test lint unit-python docs ui demo bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || (echo "Python 3.11 is required (python3.11 or python3 on PATH)" && exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

## make run: the nightly job, once, in-process (demo shop unless CRM_LANDING_DIR is set)
run: $(STAMP)
	$(BIN)/python -m orchestration.run

## make test: lint (ruff, sqlfluff) and every test (pytest runs dbt and Dagster for real)
test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	CRM_BUILD_PATH=$${TMPDIR:-/tmp}/crm_sqlfluff.duckdb $(BIN)/sqlfluff lint models --nocolor

## make ui: the Dagster UI and daemon (schedule, sensors, alerts) on http://127.0.0.1:$(UI_PORT)
UI_PORT ?= 3000
DAGSTER_HOME_DIR := $(abspath .dagster)
ui: $(STAMP)
	@mkdir -p $(DAGSTER_HOME_DIR)
	@cp dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml
	$(BIN)/python -c "from crm.settings import Settings; from orchestration.run import ensure_demo_landing; ensure_demo_landing(Settings.from_env())"
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(UI_PORT)

## make docs: regenerate the dbt docs site (one offline HTML file) and print its path
docs: $(STAMP)
	$(BIN)/python -m orchestration.docs_site

## make demo: (re)generate the demo landing area only
demo: $(STAMP)
	$(BIN)/crm-demo-shop --out data/demo_landing

## make bench: the performance benchmark (SCALE=large|medium|small|tiny, default large);
## report in benchmarks/results/$(SCALE)/report.{json,md}, working files in benchmarks/work/
SCALE ?= large
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf target logs data/warehouse.duckdb data/warehouse.build.duckdb data/warehouse.build.duckdb.wal
