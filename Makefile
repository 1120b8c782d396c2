# Contact-center scorecards: `make run` for a scorecard from a simulated month, `make test`
# for the whole suite. Everything installs into .venv; the warehouse lives under .local/.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MONTH ?= 2026-10
AGENTS ?= 60
BENCH_AGENTS ?= 2000

.DEFAULT_GOAL := help
.PHONY: help install run close bench airflow scorecard check-mapping test test-fast lint fmt docs clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else f"Python 3.11 is needed, {sys.executable} is {v[0]}.{v[1]}: make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

install: $(INSTALLED) ## create .venv and install the project with its tools

run: install ## simulate a month (MONTH, AGENTS), run the daily DAG for each day, print the scorecard
	$(BIN)/python -m cli run-month --month $(MONTH) --agents $(AGENTS)

close: install ## close MONTH after make run: freeze its scorecards, write the monthly report
	$(BIN)/python -m cli close-month --month $(MONTH)

bench: install ## benchmarks (bench/): landing throughput against COPY and pandas (BENCH_AGENTS)
	$(BIN)/python bench/landing_throughput.py --agents $(BENCH_AGENTS) --copies 4 --repeat 3

airflow: install ## start Airflow 3 (UI on :8080, scheduler, dag-processor) with the project's DAGs
	$(BIN)/python -m cli airflow

scorecard: install ## print the published scorecard of MONTH again
	$(BIN)/python -m cli scorecard --month $(MONTH)

check-mapping: install ## check MAPPING=mappings/<vendor>/<source>.yml against FILE=<sample export>
	$(BIN)/python -m cli check-mapping --mapping $(MAPPING) --file $(FILE)

test: install ## run the whole test suite (unit, DAG, integration, end to end)
	$(BIN)/python -m pytest

test-fast: install ## unit and DAG tests only (no warehouse)
	$(BIN)/python -m pytest tests/unit tests/dags

lint: install ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models

fmt: install ## format Python with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: install ## build the dbt docs (catalog of every model and KPI) into dbt_project/target
	$(BIN)/python -m cli dbt docs generate

clean: ## remove the embedded warehouse, Airflow home and sample data (.local/)
	rm -rf .local dbt_project/target dbt_project/logs
