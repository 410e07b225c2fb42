# Two commands matter: `make demo` and `make test`. Everything else is for developers and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Demo defaults: SQLite and the file-system broker under var/, the emulator on :8765. The worker
# registers the portal's webhook address at the emulator as it starts, so changes arrive at once.
DEMO_ENV := DEBUG=1 DEBITURA_BASE_URL=http://127.0.0.1:8765 DEBITURA_API_KEY=demo-api-key \
	DEBITURA_WEBHOOK_URL=http://127.0.0.1:8000/webhooks/debitura/
DEMO_CASES ?= 500

.PHONY: demo test e2e e2e-soak screenshots lint format bench ci clean help

help:
	@echo "make demo   - set up and run the portal with the Debitura emulator on http://127.0.0.1:8000"
	@echo "make test   - set up and run the whole test suite"
	@echo "make lint   - ruff check, ruff format --check, mypy, import-linter contracts"
	@echo "make bench  - benchmarks against the emulator over loopback"
	@echo "make e2e    - the end-to-end suite alone (real stack, headless Chromium); part of make test"
	@echo "make e2e-soak - the e2e suite $(SOAK_RUNS) times in a row with every core kept busy"
	@echo "make screenshots - regenerate docs/screenshots/ from the e2e suite (1440x900)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.x).")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[demo]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(DEMO_ENV) $(PY) manage.py migrate --no-input
	$(DEMO_ENV) $(PY) manage.py create_demo_users
	$(DEMO_ENV) $(PY) manage.py worklist_rebuild
	@echo "Starting web (http://127.0.0.1:8000), worker, beat and the Debitura emulator (:8765); Ctrl-C stops them all."
	DEMO_CASES=$(DEMO_CASES) $(DEMO_ENV) $(BIN)/honcho -f Procfile.demo start

test: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# The e2e suite starts its own emulator, portal and worker on free ports (tests/fixtures/stack.py).
e2e: $(VENV)/.installed-dev
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

SOAK_RUNS ?= 5
e2e-soak: $(VENV)/.installed-dev
	$(PY) -m tests.e2e.soak --runs $(SOAK_RUNS) $(PYTEST_ARGS)

screenshots: $(VENV)/.installed-dev
	E2E_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/e2e/test_screenshots.py -q -p no:cacheprovider
	@# Lossless, about a fifth smaller; the PNGs are committed.
	@if command -v optipng >/dev/null; then optipng -quiet -o2 docs/screenshots/*.png; \
	else echo "optipng is not installed: the PNGs stay as Chromium wrote them"; fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(PY) -m bench

clean:
	rm -rf var/celery .pytest_cache .mypy_cache .ruff_cache
