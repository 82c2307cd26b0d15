# Backstay: the two commands are `make run` and `make test` (see README.md).
# Each installs what is missing; a second run with nothing changed downloads nothing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= $(or $(BACKSTAY_PORT),8000)

.PHONY: run test setup-run setup-test vendor chromium unit e2e bench lint torture clean

run: setup-run
	BACKSTAY_PORT=$(PORT) $(PY) -m app.server

test: setup-test
	$(PY) -m pytest

unit: setup-test
	$(PY) -m pytest tests

e2e: setup-test
	$(PY) -m pytest e2e

# The randomized torture test with many seeds; its figures go to torture-report.jsonl.
TORTURE_SEEDS ?= 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20
TORTURE_STEPS ?= 80
torture: setup-test
	rm -f torture-report.jsonl
	BACKSTAY_TORTURE_SEEDS=$(TORTURE_SEEDS) BACKSTAY_TORTURE_STEPS=$(TORTURE_STEPS) \
	BACKSTAY_TORTURE_REPORT=$(CURDIR)/torture-report.jsonl $(PY) -m pytest e2e/test_torture.py -q
	$(PY) -c "import json; r=[json.loads(l) for l in open('torture-report.jsonl')]; \
	print(f'torture: {len(r)} runs, {sum(x[\"writes\"] for x in r)} writes, {sum(len(x[\"violations\"]) for x in r)} violations')"

bench: setup-test
	$(PY) -m bench.bench_core

lint: setup-test
	$(VENV)/bin/ruff check app tests e2e bench scripts
	$(VENV)/bin/mypy --strict app/core

setup-run: $(VENV)/.runtime vendor
setup-test: $(VENV)/.dev vendor chromium

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

vendor: node_modules/.installed $(VENV)/bin/python
	$(PY) scripts/vendor.py

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Debian's chromium is needed for the browser tests: sudo apt-get install -y chromium" >&2; exit 1; fi; }

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
