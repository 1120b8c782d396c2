# Contact-center scorecards: `make run` for a scorecard from a simulated month, `make test`
# for the whole suite. Everything installs into .venv; the warehouse lives under .local/.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BI_VENV := .venv-bi
BI_INSTALLED := $(BI_VENV)/.installed
MONTH ?= 2026-10
AGENTS ?= 60
BENCH_AGENTS ?= 2000

.DEFAULT_GOAL := help
.PHONY: help install bi-install bi run close bench bench-landing bench-history bench-e2e airflow scorecard check-mapping test test-fast lint fmt docs clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else f"Python 3.11 is needed, {sys.executable} is {v[0]}.{v[1]}: make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

install: $(INSTALLED) ## create .venv and install the project with its tools

# Superset's pins (pandas < 2.2, SQLAlchemy < 2) conflict with the project's: its own venv.
$(BI_INSTALLED): bi/requirements.txt
	$(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BI_VENV)/bin/python -m pip install --quiet -r bi/requirements.txt
	@touch $(BI_INSTALLED)

bi-install: $(BI_INSTALLED) ## create .venv-bi with Apache Superset

bi: install bi-install ## Superset with the dashboards on reporting (after make run) on :8088
	$(BIN)/python -m cli bi

run: install ## simulate a month (MONTH, AGENTS), run the daily DAG for each day, print the scorecard
	$(BIN)/python -m cli run-month --month $(MONTH) --agents $(AGENTS)

close: install ## close MONTH after make run: freeze its scorecards, write the monthly report
	$(BIN)/python -m cli close-month --month $(MONTH)

bench: bench-landing bench-history bench-e2e ## all benchmarks (bench/, ~45 min); results: bench/RESULTS.md

bench-landing: install ## landing throughput against COPY and pandas, peak memory, the CRM landing (~5 min)
	$(BIN)/python bench/landing_throughput.py --agents $(BENCH_AGENTS) --copies 4 --repeat 3
	$(BIN)/python bench/landing_memory.py --agents $(BENCH_AGENTS) --copies 1 4 8
	$(BIN)/python bench/crm_landing.py --agents $(BENCH_AGENTS) --repeat 3

bench-history: install ## the daily DAG with 1 vs 6 months of history, 200 agents (~20 min)
	$(BIN)/python bench/history_build.py --agents 200 --months 1 6 --repeat 5

bench-e2e: install ## one day at 200/1,000/2,000 agents, and a 30-day backfill of 200 (~20 min)
	$(BIN)/python bench/end_to_end.py --agents 200 1000 $(BENCH_AGENTS) --days 3 --repeat 3
	$(BIN)/python bench/end_to_end.py --agents 200 --days 30 --backfill

airflow: install ## start Airflow 3 (UI on :8080, scheduler, dag-processor) with the project's DAGs
	$(BIN)/python -m cli airflow

scorecard: install ## print the published scorecard of MONTH again
	$(BIN)/python -m cli scorecard --month $(MONTH)

check-mapping: install ## check MAPPING=mappings/<vendor>/<source>.yml against FILE=<sample export>
	$(BIN)/python -m cli check-mapping --mapping $(MAPPING) --file $(FILE)

test: install bi-install ## run the whole test suite (unit, DAG, integration, end to end)
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
