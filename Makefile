# The two commands: `make run` and `make test`. Everything else is a habit.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
APT_STAMP := $(VENV)/.apt-test

.PHONY: run setup setup-test system-packages test unit e2e lint typecheck bench messages clean

run: setup
	$(BIN)/portal run

setup: $(STAMP) static/vendor/htmx.min.js static/vendor/utrecht-components.css static/vendor/utrecht-tokens.css static/vendor/utrecht-arrow-dropdown.svg portal/translations/nl/LC_MESSAGES/messages.mo

$(VENV)/bin/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

# htmx comes from the npm registry, pinned in package-lock.json, and is served
# from our own static files: no CDN, no copy in git.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# NL Design System (Utrecht): the component CSS and its design tokens, from the
# npm registry like htmx (templates/base.html serves them, tokens first).
static/vendor/utrecht-components.css: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/@utrecht/component-library-css/dist/index.css $@

static/vendor/utrecht-tokens.css: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/@utrecht/design-tokens/dist/index.css $@

static/vendor/utrecht-arrow-dropdown.svg: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/@utrecht/design-tokens/src/arrow-dropdown.svg $@

portal/translations/nl/LC_MESSAGES/messages.mo: portal/translations/nl/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel -q compile -d portal/translations -D messages

setup-test: setup $(TEST_STAMP) $(APT_STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Debian's Chromium (Playwright cannot download its own browser here), a
# PostgreSQL server the tests start themselves, and SoftHSM2 for the HSM tests.
$(APT_STAMP):
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v softhsm2-util >/dev/null || missing="$$missing softhsm2"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	touch $@

# The whole suite: unit, integration on SQLite and on a throwaway PostgreSQL
# server (started by the test fixtures), interop with a certified OP, browser
# tests in Chromium. PostgreSQL must start: a skip would hide half the suite.
# tests/ runs in one worker per core (pytest-xdist; each worker starts its own
# PostgreSQL cluster): a third of its time is spent waiting on the database and
# servers. The browser tests run after it in one process, so no two Chromiums
# compete for the two cores. The second run starts even when the first fails,
# so one `make test` reports every failure; it fails if either did. Each run
# lists its slowest tests, so a run that grows shows where.
TEST_ENV := PORTAL_TEST_REQUIRE_POSTGRES=1 PORTAL_TEST_REQUIRE_ALL=1
WORKERS ?= $(shell nproc)
test: setup-test
	@status=0; \
	$(TEST_ENV) $(BIN)/pytest -n $(WORKERS) tests -p no:playwright --durations=20 || status=$$?; \
	$(TEST_ENV) $(BIN)/pytest e2e --durations=10 || status=$$?; \
	exit $$status

unit: setup-test
	$(BIN)/pytest tests -m "not postgres" -p no:playwright

e2e: setup-test
	$(BIN)/pytest e2e

lint: setup-test
	$(BIN)/ruff check .

typecheck: setup-test
	$(BIN)/mypy

bench: setup-test
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

messages: setup-test
	$(BIN)/pybabel -q extract -F babel.cfg -k LoginRejected:2 -k N_ --no-location \
		--omit-header -o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -i portal/translations/messages.pot -d portal/translations \
		-D messages --no-location --omit-header

clean:
	rm -rf $(VENV) node_modules static/vendor var
