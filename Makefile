# The commands the README names. Everything runs from the project's Python 3.12 virtualenv.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: up down test test-fast lint validate build demo-change demo-cosmetic clean chaos

$(VENV)/.installed: pyproject.toml $(wildcard layers/*/requirements.txt) scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

## up: run the whole stack locally on MiniStack (watching a demo site, alerting)
up: $(VENV)/.installed
	$(PY) -m devstack.up

## down: stop MiniStack and the demo site (state is kept in .local/)
down:
	$(PY) -m devstack.down

## demo-change: the demo site publishes the next version of its pages
demo-change: $(VENV)/.installed
	$(PY) -m devstack.demo_site publish 1

## demo-cosmetic: the demo site moves ChatGPT's links to another locale (recorded, never alerted)
demo-cosmetic: $(VENV)/.installed
	$(PY) -m devstack.demo_site publish 2

## test: lint, template validation, then unit + integration + e2e tests
test: $(VENV)/.installed lint validate
	$(VENV)/bin/pytest

## test-fast: unit and integration tests only (no MiniStack)
test-fast: $(VENV)/.installed
	$(VENV)/bin/pytest -m "not e2e"

## chaos: stop and crash the local stack mid-sweep, mid-diff and mid-fan-out; count what was lost or sent twice (docs/chaos.md)
chaos: $(VENV)/.installed
	$(PY) -m devstack.chaos

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) scripts/provisions_doc.py --check
	$(PY) scripts/check_pins.py
	$(VENV)/checkov/bin/checkov -f template.yaml --config-file .checkov.yaml

validate: $(VENV)/.installed
	$(VENV)/bin/sam validate --lint

build: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build  # python3.12 and pip for the builds: the venv's

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache
