# KoopBoard: two commands on a fresh machine (Linux, Python 3.11+, Node.js with npm).
#   make run    development server with embedded defaults (SQLite, server-less Celery broker,
#               local mail sink) at http://127.0.0.1:5000, mail readable at /dev/mail;
#               other ports: make run PORT=5080 MAIL_PORT=2525 (PUBLIC_BASE_URL follows PORT)
#   make test   the whole test suite
# Everything runs through .venv/bin/..., so no activated shell is needed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
VENDOR := koopboard/static/vendor
# KERN UX, the German administrations' design system (EUPL-1.2): its CSS and the Fira Sans fonts.
KERN := node_modules/@kern-ux/native
TRANSLATIONS := koopboard/translations

# Stamps: redo a step only when its inputs change.
VENV_STAMP := $(VENV)/.requirements.stamp
ASSETS_STAMP := $(VENDOR)/.package-lock.stamp

PYTEST_ARGS ?=
# Two test processes (pytest-xdist), one test file each at a time: every process has its own
# PostgreSQL database, and each integration file its own Redis database number. The suite took
# 15 min in one process on this 2-core machine, 9 min in two. PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 2
# make run: the web port, the mail sink's port (the app sends to MAIL_PORT, the sink listens
# there) and the base of links in mails, which follows the web port unless set.
PORT ?= 5000
MAIL_PORT ?= 1025
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
# Security lint of the shipped code; each finding is fixed or justified inline (# nosec).
BANDIT := $(BIN)/bandit -q -c pyproject.toml -r koopboard tasks app.py

.PHONY: help run test lint audit format bench clean distclean venv .venv assets translations system

help: ## List the targets
	@grep -E '^[a-zA-Z_. -]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# --- set-up -----------------------------------------------------------------------------------

venv .venv: $(VENV_STAMP) ## Create .venv and install requirements-dev.txt (again when it changes)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "KoopBoard needs Python 3.11 or newer (try: make PYTHON=python3.11 ...)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "python3 -m venv failed (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	@touch $@

assets: $(ASSETS_STAMP) ## npm ci and copy htmx, axe-core and KERN UX into koopboard/static/vendor/

$(ASSETS_STAMP): package-lock.json package.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (with npm) first" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/axe-core/axe.min.js $(VENDOR)/
	rm -rf $(VENDOR)/kern && mkdir -p $(VENDOR)/kern/fonts
	cp $(KERN)/dist/kern.min.css $(KERN)/LICENSE.md $(VENDOR)/kern/
	cp -r $(KERN)/dist/fonts/fira-sans.css $(KERN)/dist/fonts/fira-sans $(VENDOR)/kern/fonts/
	@touch $@

translations: $(VENV_STAMP) ## Compile the .po catalogues (if there are any)
	@if [ -d $(TRANSLATIONS) ] && find $(TRANSLATIONS) -name '*.po' | grep -q .; then \
		$(BIN)/pybabel compile -f -d $(TRANSLATIONS) >/dev/null; \
	fi

system: ## Install chromium and docker-compose if missing (only as root with apt-get)
	@bash scripts/setup-system.sh

# --- the two commands ---------------------------------------------------------------------------

run: export KOOP_ENV := development
run: export PYTHONUNBUFFERED := 1
run: export KOOP_PORT := $(PORT)
run: export MAIL_PORT := $(MAIL_PORT)
run: export PUBLIC_BASE_URL := $(PUBLIC_BASE_URL)
run: $(VENV_STAMP) assets translations ## Migrate, load the demo, start web, worker, beat, mail sink (PORT=, MAIL_PORT=)
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) koop import-register --quiet
	$(FLASK) koop load-demo
	@echo "KoopBoard: $(PUBLIC_BASE_URL)  (mail: $(PUBLIC_BASE_URL)/dev/mail, sink on 127.0.0.1:$(MAIL_PORT); Ctrl-C stops)"
	$(BIN)/honcho start -f Procfile.dev

test: $(VENV_STAMP) assets translations system ## Run the whole test suite (lint first: it takes a second)
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BANDIT)
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# --- more -----------------------------------------------------------------------------------------

lint: $(VENV_STAMP) ## ruff, bandit, lint-imports (layers: docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BANDIT)
	$(BIN)/lint-imports --no-cache

# Needs the network (PyPI's vulnerability data): not part of make test. Without it pip-audit
# cannot audit anything; --strict makes that a failure instead of a silent pass.
audit: $(VENV_STAMP) ## Known vulnerabilities in the pinned packages (pip-audit; needs network)
	$(BIN)/pip-audit --strict --disable-pip --no-deps -r requirements.txt -r requirements-dev.txt

format: $(VENV_STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCH ?=
bench: $(VENV_STAMP) ## Run every bench/bench_*.py (BENCH=pages: only bench/bench_pages.py)
	@shopt -s nullglob; for script in bench/bench_$(or $(BENCH),*).py; do \
		echo "== $$script"; PYTHONPATH=$(CURDIR) $(BIN)/python "$$script"; \
	done

clean: ## Remove caches, node_modules and the vendored assets (keeps .venv and instance/)
	rm -rf node_modules $(VENDOR) .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name '*.mo' -type f -exec rm -f {} +

distclean: clean ## Also remove .venv and instance/ (local database, broker, mail)
	rm -rf $(VENV) instance
