# The two commands of the README: `make run` (serve on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# setuptools warns on every editable install that a folder named like the package could shadow
# it (it is this checkout, on purpose); pip --quiet passes the build backend's warnings through.
PIP := PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip
# `make run PORT=8001 HOST=0.0.0.0` serves elsewhere (a second receiver, a busy port).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test browser lint format bench clean

run: $(VENV)/.installed
	$(BIN)/receiver run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

# The admin's browser tests drive Debian's Chromium (Playwright's own browser download cannot
# work here). Installed when missing if we are root with apt (CI); otherwise those tests skip.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make test: installing Debian's chromium package with apt-get (for the admin's browser tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; \
	  else \
	    echo "no /usr/bin/chromium: browser tests will be skipped (sudo apt-get install -y chromium)"; \
	  fi; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.installed: pyproject.toml
	@echo "make: installing the receiver and its dependencies (pyproject.toml) into $(VENV) with pip"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@echo "make: installing the test extras (pytest, ruff, hypothesis, playwright, ...) into $(VENV)"
	$(PIP) install --quiet -e '.[test]'
	touch $@

# Benchmarks against a same-run baseline (needs the local PostgreSQL; see README "Performance").
bench: $(VENV)/.installed
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
