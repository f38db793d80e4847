# The two commands of the README: `make run` (the whole system on the embedded default) and
# `make test` (the whole suite). Both set everything up on a fresh machine first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SERVICE_DIRS := $(sort $(filter-out services/common/,$(dir $(wildcard services/*/pyproject.toml))))
PYTEST := $(BIN)/python -m pytest
STAMP := $(VENV)/.installed

.PHONY: help install web web-api run test test-web test-browser test-unit test-services test-gateway test-e2e test-authz test-fuzz test-faults test-faults-quick fuzz fuzz-extreme bench bench-full lint format lock clean

help:
	@echo "make run    - install, start RabbitMQ if needed, migrate, run every service and the gateway"
	@echo "make test   - install and run the whole test suite (lint, services, gateway, end to end)"
	@echo "make bench  - the benchmark harness, quick mode (a few minutes); make bench-full for the figures in docs/"
	@echo "make test-faults - kill -9 each service, restart RabbitMQ, stop a database mid-burst; nothing lost"
	@echo "make fuzz   - schemathesis against the gateway's OpenAPI, long profile"
	@echo "make fuzz-extreme - the same with extreme dates, decimals and texts"
	@echo "make web    - build the web console (web/dist) when its sources changed; make web-api regenerates its API client"
	@echo "make lint   - ruff check, ruff format --check, event catalogue up to date, mypy on domain code and common"
	@echo "make events - regenerate the event catalogue (docs/events/) from the services' events.py"
	@echo "make lock   - rewrite constraints.txt from the virtualenv"

$(STAMP): constraints.txt services/common/pyproject.toml $(wildcard services/*/pyproject.toml) gateway/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (found %s); apt-get install python3.11 python3.11-venv" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "cannot create a virtualenv: apt-get install python3.11-venv"; exit 1; }
	$(BIN)/python -m pip install -q -c constraints.txt pip setuptools
	$(BIN)/python -m pip install -q -c constraints.txt --no-build-isolation \
		-e services/common $(foreach d,$(SERVICE_DIRS),-e $(d)) -e gateway \
		pytest pytest-timeout pytest-asyncio httpx ruff mypy kubernetes-validate aiosmtpd pypdf "moto[server]" schemathesis playwright
	@touch $(STAMP)

install: $(STAMP)
	@deploy/local/ensure_fonts.sh

run: install web
	$(BIN)/python deploy/local/run.py

# The web console (web/): Node.js >= 20 from the machine or, where it has none, from PyPI into the
# virtualenv; `npm ci` from the committed lock file; built into web/dist when its sources changed.
NODE_DIR = $(shell deploy/local/ensure_node.sh $(BIN)/python)
WEBENV = PATH="$(NODE_DIR):$$PATH"
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

web/node_modules/.installed: web/package-lock.json web/package.json | $(STAMP)
	cd web && $(WEBENV) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && $(WEBENV) npm run build --silent

web: install web/dist/index.html

# Regenerate the console's API client from the gateway's OpenAPI document (commit both files).
web-api: install web/node_modules/.installed
	cd web && ../$(BIN)/python scripts/dump_openapi.py openapi.json && $(WEBENV) npm run gen:api --silent

# The console's own checks: API client up to date, OpenAPI lint (Redocly), strict type check,
# component tests.
test-web: install web/node_modules/.installed
	cd web && $(WEBENV) PYTHON=../$(BIN)/python scripts/check_api.sh
	cd web && $(WEBENV) PYTHON=../$(BIN)/python scripts/lint_openapi.sh
	cd web && $(WEBENV) npx tsc -b
	cd web && $(WEBENV) npx vitest run

# The whole cycle in headless Chromium (Debian's chromium, installed here when missing), against
# the system started by the same runner as `make run`; screenshots under var/screens/.
test-browser: install web
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }; } \
		|| { echo "Chromium is needed for the browser tests: apt-get install chromium"; exit 1; }
	$(PYTEST) tests/browser -q -p no:nameko

test: install lint
	$(BIN)/python deploy/local/run.py --broker-only
	$(MAKE) --no-print-directory test-web test-services test-gateway test-e2e test-browser test-authz test-fuzz test-faults-quick validate-deploy

# schemathesis's pytest plugin imports ssl before eventlet monkey-patches it (RecursionError in boto3)
test-services: install
	$(PYTEST) services -q -p no:schemathesis --suppress-nameko-eventlet-notification

test-gateway: install
	$(PYTEST) gateway/tests -q -p no:nameko

test-e2e: install
	$(PYTEST) tests/e2e -q -p no:nameko

# Object-level authorization, generated from the gateway's route table.
test-authz: install
	$(PYTEST) tests/authz -q -p no:nameko

# schemathesis against the running system: a quick profile here (and in CI), a long one in `make fuzz`.
test-fuzz: install
	FUZZ_PROFILE=quick $(PYTEST) tests/fuzz -q -p no:nameko

fuzz: install
	FUZZ_PROFILE=long $(PYTEST) tests/fuzz -q -p no:nameko

# the same with dates, decimals and texts drawn from extreme values (tests/fuzz/extreme.py)
fuzz-extreme: install
	FUZZ_PROFILE=extreme $(PYTEST) tests/fuzz -q -p no:nameko

# Fault tests: the whole set (`make test-faults`) and the subset CI runs inside `make test`.
test-faults: install
	$(BIN)/python deploy/local/run.py --broker-only
	FAULTS=full $(PYTEST) tests/faults -q -p no:nameko

test-faults-quick: install
	FAULTS=quick $(PYTEST) tests/faults -q -p no:nameko

# The benchmark harness (bench/harness.py): quick mode, then the full one docs/benchmarks.md quotes.
bench: install web
	$(BIN)/python deploy/local/run.py --broker-only
	$(BIN)/python bench/harness.py --mode quick

bench-full: install web
	$(BIN)/python deploy/local/run.py --broker-only
	$(BIN)/python bench/harness.py --mode full

lint: install
	$(BIN)/ruff check services gateway tests deploy bench
	$(BIN)/ruff format --check services gateway tests deploy bench
	$(BIN)/python -m crm_common.catalogue_build --check
	$(BIN)/mypy services/common/crm_common $(foreach d,$(SERVICE_DIRS),$(d)$(notdir $(d:/=))/domain.py) services/contracts/contracts/templating.py \
		services/notify/notify/task_rules.py services/notify/notify/payload_fields.py

format: install
	$(BIN)/ruff format services gateway tests deploy bench
	$(BIN)/ruff check --fix services gateway tests deploy bench

# The event catalogue (docs/events/, crm_common/event_catalogue.json) from the services' events.py
.PHONY: events
events: install
	$(BIN)/python -m crm_common.catalogue_build

lock:
	{ head -3 constraints.txt; $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^-e' | sort -f; } > constraints.tmp && mv constraints.tmp constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache web/node_modules web/dist

# Offline validation of deploy/ (docker compose, Traefik files, kustomize overlays rendered and
# checked against Kubernetes and Traefik CRD schemas), then its tests. Needs kubectl (Debian
# package `kubectl`) and kubernetes-validate in the venv.
.PHONY: validate-deploy
validate-deploy: install
	@command -v kubectl >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get install -y -q kubectl >/dev/null; } || { echo "kubectl is needed: apt-get install kubectl"; exit 1; }
	$(BIN)/python deploy/validate.py
	$(PYTEST) deploy/tests -q -p no:nameko
