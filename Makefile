# clm: two commands do everything on a fresh machine.
#   make run    set up .venv, generate demo extracts if the landing zone is empty, run the pipeline, publish
#   make test   set up .venv and run lint + the whole test suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLM_RAW_DIR ?= data/raw
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 42
# Test workers (pytest-xdist); each test module runs whole on one worker, so module fixtures run once.
TEST_WORKERS ?= auto
# make bench: customer counts, comma-separated (issue 15's sizes: 10000,100000,1000000); BENCH_ARGS adds
# options of benchmarks/run.py, e.g. BENCH_ARGS="--keep --memory-limit 2GB".
BENCH_SIZES ?= 10000
BENCH_ARGS ?=
export CLM_RAW_DIR

.PHONY: run test lint venv generate ui bench clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "clm needs $(PYTHON) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,spark]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@if [ -z "$$(find $(CLM_RAW_DIR) -type f 2>/dev/null | head -1)" ]; then \
		echo "Landing zone $(CLM_RAW_DIR) is empty: generating demo extracts ($(DEMO_CUSTOMERS) customers, seed $(DEMO_SEED))"; \
		$(BIN)/clm generate --out $(CLM_RAW_DIR) --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED); \
	fi
	$(BIN)/clm run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

ui: $(STAMP)
	$(BIN)/clm ui

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --customers $(BENCH_SIZES) $(BENCH_ARGS)

clean:
	rm -rf data target logs
