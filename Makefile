# Entry point. Every target sets up the virtualenv (venv/) from the pinned requirements
# first, then runs the project CLI (`python -m tools.cli`, see tools/cli.py):
#   make up / make down / make smoke / make status / make report   the whole journey
#   make compare                                                    day-2 scenarios, then the demo restored
#   make up-kro / make down-kro                                     one approach (up-platform: the base)
#   make test / make plan STACK=x / make app-local                  no cluster needed
# The CLI checks Docker, k3d and the Pulumi CLI first and installs the pinned k3d/Pulumi
# into .tools/bin when missing or at another version (never system-wide). Pulumi state
# stays in .pulumi-state/ (file backend, generated passphrase unless
# PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE is set).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
CLI := $(PY) -m tools.cli
STACK ?= platform
# Extra arguments for the CLI, e.g. `make up ARGS=--sequential`.
ARGS ?=

.PHONY: help test plan up down smoke status doctor report compare audit tools app-local

help:
	@echo "make up            platform, then crossplane, kro and kratix concurrently"
	@echo "make up-<stack>    one stack: up-platform, up-crossplane, up-kro, up-kratix"
	@echo "make down          approach stacks, audit for leftover tables, then the platform"
	@echo "make down-<stack>  one approach stack (the platform stays)"
	@echo "make smoke         drive every deployed session API and check its table"
	@echo "make status        what each approach is waiting for, and why"
	@echo "make report        side-by-side comparison: out/report.md and out/report.png"
	@echo "make compare       day-2 scenarios (drift, change, deletion) per approach, then restore"
	@echo "make tools         check prerequisites; install pinned k3d/Pulumi into .tools/bin"
	@echo "make test          the whole test suite (no cluster needed)"
	@echo "make plan STACK=x  offline plan of stack x as JSON"
	@echo "make app-local     the session API against a local DynamoDB emulator"

$(VENV)/.installed: requirements.txt requirements-dev.txt app/requirements.txt app/requirements-test.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11+ (https://www.python.org/downloads/) or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); 3.11+ is needed: make PYTHON=python3.11 ..."; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "$(PYTHON) cannot create virtualenvs: install its venv module (Debian/Ubuntu: sudo apt-get install python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: the CUE tests run on Node.js; install Node.js with npm (https://nodejs.org/)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# One pytest-xdist worker per core (`-n auto`); `make test PYTEST_ARGS="-n 0"` runs in one process.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: a run starts some forty Python
# processes (workers, gunicorn, moto, pipelines) that would otherwise each compile the project's
# modules again. __pycache__/ is ignored by git, by the images' content hashes and by what
# their Dockerfiles copy.
PYTEST_ARGS ?= -n auto
test: $(VENV)/.installed node_modules/.installed
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest $(PYTEST_ARGS)

plan: $(VENV)/.installed
	$(CLI) plan $(STACK)

up down smoke status doctor report compare audit tools: $(VENV)/.installed
	$(CLI) $@ $(ARGS)

up-%: $(VENV)/.installed
	$(CLI) up $* $(ARGS)

down-%: $(VENV)/.installed
	$(CLI) down $* $(ARGS)

app-local: $(VENV)/.installed
	cd app && ../$(PY) -m session_api.local
