# Two commands for a fresh clone: `make run` starts the bot, `make test` runs every test.
# Both create .venv/ and install the project first when needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin/redlines-bot
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck test-unit test-model hardening clean-index screenshots

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build (2.13.0) in pyproject.toml; unpinned it pulls several GB of CUDA.
	$(PY) -m pip install --quiet -e '.[test,plot,adapt]'
	touch $(STAMP)

install: $(STAMP)

# Builds the index when it is missing or stale, then starts: on Discord when DISCORD_TOKEN is set,
# otherwise in the local console. Exit status 3 from the build means the quality guard refused the new
# index: the last good one stays current and is served (the bot and `index status` say so loudly).
run: install
	$(BIN) index build --if-needed || test $$? -eq 3
	$(BIN) run

# Lint, type-check, then fast tests with the fake encoder, then the tests that load the real packaged model.
test: lint typecheck test-unit test-model

lint: install
	$(VENV)/bin/ruff check bot tests

# mypy's settings are in pyproject.toml ([tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy bot

test-unit: install
	$(PY) -m pytest -m "not model" -q

test-model: install
	$(PY) -m pytest -m model -q

# Runs the unit suite and, when it passes, rewrites docs/hardening.md from what the tests recorded
# (the tests themselves never write a tracked file).
hardening: install
	$(PY) -m tests.hardening_report

clean-index:
	rm -rf index/gen-* index/current index/previous index/.tmp-*

# Pictures of the main flows for the README (docs/screenshots/*.png): the real bot in simcord's simulated Discord,
# photographed by Debian's headless Chromium. Needs root for apt-get the first time.
screenshots: install
	$(PY) -m pip install --quiet -e '.[docs]'
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	$(BIN) index build --if-needed
	$(PY) tools/screenshots.py
