# The two commands: `make run` (the product on the embedded default) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev lint test-sqlite test-postgres bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Scribe Tree needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: migrate the embedded SQLite database under var/, seed the demo institution, serve on :8000
run: $(VENV)/.installed
	$(BIN)/scribetree init
	$(BIN)/scribetree demo
	$(BIN)/scribetree serve --host 127.0.0.1 --port 8000 --no-migrate

## make test: lint, architecture checks, the suite on SQLite, then on PostgreSQL (skipped loudly if unreachable)
test: $(VENV)/.installed-dev lint test-sqlite test-postgres

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench scripts migrations
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_architecture.py

test-sqlite: $(VENV)/.installed-dev
	@echo "==> test suite on SQLite"
	SCRIBETREE_TEST_DATABASE=sqlite $(BIN)/coverage run -m pytest -q
	$(BIN)/coverage report --format=total --fail-under=0 | sed 's/^/==> branch coverage (floor in pyproject.toml): /;s/$$/%/'
	@$(BIN)/coverage report --format=total > /dev/null || { echo "==> below the floor (fail_under in pyproject.toml)"; exit 1; }

test-postgres: $(VENV)/.installed-dev
	@scripts/test-postgres.sh $(BIN)

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run --help

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
