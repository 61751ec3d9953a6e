# clm: two commands do everything on a fresh machine.
#   make run    set up .venv, generate demo extracts if the landing zone is empty, run the pipeline, publish
#   make test   set up .venv and run lint + the whole test suite
#   make notebooks  JupyterLab on notebooks/ (after make run: they read the published serving file)
# For a pull request (CONTRIBUTING.md): make lint, make test-dbt SELECT=<dbt selection>, make hooks.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm packages of the CSS and JS that GX's Data Docs load (expectations/data_docs_offline.py copies them in)
DOCS_ASSETS := expectations/data_docs_assets
# The dashboard (an Evidence project) and the stamp of its npm packages, pinned by its package-lock.json
DASHBOARDS := dashboards
DASHBOARD_STAMP := $(DASHBOARDS)/node_modules/.clm-installed
# The browser of the dashboard test (make browser installs Debian's package there).
CHROMIUM ?= /usr/bin/chromium
CLM_RAW_DIR ?= data/raw
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 42
# Test workers (pytest-xdist); each test module runs whole on one worker, so module fixtures run once.
TEST_WORKERS ?= auto
# make bench: customer counts, comma-separated (issue 15's sizes: 10000,100000,1000000); BENCH_ARGS adds
# options of benchmarks/run.py, e.g. BENCH_ARGS="--keep --memory-limit 2GB".
BENCH_SIZES ?= 10000
BENCH_ARGS ?=
# make notebooks: options of jupyter lab, e.g. NOTEBOOK_ARGS="--no-browser --port 8890".
NOTEBOOK_ARGS ?=
# make test-dbt: a dbt selection, e.g. SELECT=fct_mrr_movements+ (CONTRIBUTING.md).
SELECT ?=
# sqlfluff: one process per core; its 65 model and test files take about 60 s of CPU (about 30 s on 2 cores).
SQLFLUFF := $(BIN)/sqlfluff lint dbt_project --processes 2 --disable-progress-bar
export CLM_RAW_DIR

.PHONY: run test test-dbt lint hooks venv generate ui bench notebooks dashboard dashboard-packages browser clean

$(STAMP): pyproject.toml constraints.txt $(DOCS_ASSETS)/package-lock.json
	@command -v $(PYTHON) >/dev/null || { echo "clm needs $(PYTHON) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,spark]'
	@if command -v npm >/dev/null; then \
		echo "npm ci in $(DOCS_ASSETS) (the Data Docs' CSS and JS, so they work offline)"; \
		cd $(DOCS_ASSETS) && npm ci --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the Data Docs will load their CSS and JS from CDNs (offline they show blank pages);" \
			"install Node.js with npm, then run: cd $(DOCS_ASSETS) && npm ci"; \
	fi
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@if [ -z "$$(find $(CLM_RAW_DIR) -type f 2>/dev/null | head -1)" ]; then \
		echo "Landing zone $(CLM_RAW_DIR) is empty: generating demo extracts ($(DEMO_CUSTOMERS) customers, seed $(DEMO_SEED))"; \
		$(BIN)/clm generate --out $(CLM_RAW_DIR) --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED); \
	fi
	$(BIN)/clm run

test: $(STAMP) $(DASHBOARD_STAMP) browser
	$(BIN)/ruff check .
	$(SQLFLUFF)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(SQLFLUFF)

# dbt build (models, data tests, unit tests) of $(SELECT) on the dbt suite's fixture, in a scratch DuckDB file
# (target/test-dbt/) built once and reused (tests/dbt/select_build.py).
test-dbt: $(STAMP)
	@test -n "$(SELECT)" || { echo "usage: make test-dbt SELECT=<dbt selection, e.g. fct_mrr_movements+>"; exit 2; }
	$(BIN)/python -m tests.dbt.select_build --select '$(SELECT)'

# git hooks from .pre-commit-config.yaml: local hooks that run the venv's ruff and sqlfluff on staged files
hooks: $(STAMP)
	$(BIN)/pre-commit install

ui: $(STAMP)
	$(BIN)/clm ui

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --customers $(BENCH_SIZES) $(BENCH_ARGS)

# JupyterLab rooted at notebooks/, whose kernels read the serving file that make run published
# (CLM_SERVING_DB, else data/warehouse/serving.duckdb); .PHONY, as a folder of that name exists. JupyterLab has
# its own venv (requirements-notebooks.txt says why); the kernel it starts is .venv's Python, registered under
# .venv/share/jupyter as python3 and found first through JUPYTER_PATH.
LAB_VENV := .venv-notebooks
LAB_STAMP := $(LAB_VENV)/.installed

$(LAB_STAMP): requirements-notebooks.txt constraints.txt
	@test -x $(LAB_VENV)/bin/python || $(PYTHON) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-r requirements-notebooks.txt
	@touch $(LAB_STAMP)

notebooks: $(STAMP) $(LAB_STAMP)
	@test -f "$${CLM_SERVING_DB:-data/warehouse/serving.duckdb}" || \
		echo "No serving file yet: the notebooks need make run first (or CLM_SERVING_DB)"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (clm)" >/dev/null
	JUPYTER_PATH=$(abspath $(VENV))/share/jupyter $(LAB_VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks \
		--KernelSpecManager.ensure_native_kernel=False $(NOTEBOOK_ARGS)

# The dashboard's npm packages (Evidence 39, its DuckDB plugin, playwright-core for the test; about 700 MB,
# 2 minutes): make test and make dashboard install them. Without npm, tests/dashboards skips.
$(DASHBOARD_STAMP): $(DASHBOARDS)/package-lock.json
	@if command -v npm >/dev/null; then \
		echo "npm ci in $(DASHBOARDS) (the dashboard: Evidence and its DuckDB plugin)"; \
		cd $(DASHBOARDS) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.clm-installed; \
	else \
		echo "npm not found: no dashboard (make dashboard) and its test skips; install Node.js with npm"; \
	fi

dashboard-packages: $(DASHBOARD_STAMP)

# Debian's chromium, which tests/dashboards drives headless: installed when missing and we are root (CI is);
# otherwise the dashboard test skips (CLM_REQUIRE_BROWSER=1, set by .ci/run, makes it fail instead).
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "apt-get install chromium (for the dashboard test, tests/dashboards)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "no $(CHROMIUM): the dashboard test will skip (as root: apt-get install chromium)"; \
	fi

# The dashboard as static HTML in dashboards/build, from the serving file that make run published
# (CLM_SERVING_DB, else $$CLM_DATA_DIR/serving.duckdb); serve it over HTTP, e.g. npm --prefix dashboards run preview.
dashboard: $(STAMP) $(DASHBOARD_STAMP)
	CLM_PYTHON=$(BIN)/python $(DASHBOARDS)/build.sh

clean:
	rm -rf data target logs
