# Two commands for a fresh clone: `make run` starts the bot, `make test` runs every test.
# Both create .venv/ and install the project first when needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin/redlines-bot
STAMP := $(VENV)/.installed

.PHONY: install run test lint test-unit test-model clean-index

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build (2.13.0) in pyproject.toml; unpinned it pulls several GB of CUDA.
	$(PY) -m pip install --quiet -e '.[test,plot,adapt]'
	touch $(STAMP)

install: $(STAMP)

# Builds the index when it is missing or stale, then starts: on Discord when DISCORD_TOKEN is set,
# otherwise in the local console.
run: install
	$(BIN) index build --if-needed
	$(BIN) run

# Lint, then fast tests with the fake encoder, then the tests that load the real packaged model.
test: lint test-unit test-model

lint: install
	$(VENV)/bin/ruff check bot tests

test-unit: install
	$(PY) -m pytest -m "not model" -q

test-model: install
	$(PY) -m pytest -m model -q

clean-index:
	rm -rf index/gen-* index/current index/previous index/.tmp-*
