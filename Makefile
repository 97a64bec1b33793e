# Two commands for a newcomer: `make run` and `make test`. Both set everything up first.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
PORT   ?= 5000
HOST   ?= 127.0.0.1
export FLASK_APP := app

.PHONY: install run test lint typecheck unit bench bench-instructions openapi contract-check contract-release clean

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

## Serve the API on SQLite with the demo dataset at http://$(HOST):$(PORT)
run: install
	$(BIN)/flask upgrade-db
	$(BIN)/flask seed-demo --base-url http://$(HOST):$(PORT)
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Lint, type-check and run the suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set)
test: install lint typecheck contract-check unit

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

## Benchmark on the local PostgreSQL (BENCH_SCALE=1 for the full dataset; needs wrk)
bench: install
	@command -v wrk >/dev/null || apt-get install -y wrk || (echo "install wrk first" && false)
	$(BIN)/python -m bench.run --scale $(or $(BENCH_SCALE),0.002) --duration $(or $(BENCH_SECONDS),10)
## CPU instructions per request by journey, under valgrind (repeatable; compare changes by it)
bench-instructions: install
	@command -v valgrind >/dev/null || apt-get install -y valgrind || (echo "install valgrind first" && false)
	$(BIN)/python -m bench.instructions --scale $(or $(BENCH_SCALE),0.01)
## Regenerate mobile_contract/openapi.json from the code (commit the diff for review)
openapi: install
	$(BIN)/flask write-openapi

## Fail when the live API breaks the latest release in mobile_contract/releases/
contract-check: install
	$(BIN)/flask check-contract

## Store the live document as a new release: make contract-release VERSION=1.1.0
contract-release: install
	$(BIN)/flask release-contract $(VERSION)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
