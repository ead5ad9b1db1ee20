# Entry point. `make up` brings the platform and the three approaches up; `make test` runs the tests.
# Everything lands in this folder: the virtualenv (venv/), npm packages (node_modules/),
# Pulumi state (.pulumi-state/, file backend, no Pulumi account needed).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
APPROACHES := crossplane kro kratix
STACK ?= platform

export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# Stack secrets are encrypted with a passphrase; without one set, a random one is
# generated once and kept (git-ignored) beside the state.
PASSPHRASE_FILE := $(CURDIR)/.pulumi-state/passphrase
ifeq ($(origin PULUMI_CONFIG_PASSPHRASE),undefined)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(PASSPHRASE_FILE)
endif
export PULUMI_SKIP_UPDATE_CHECK := true

.PHONY: help test plan up down app-local prerequisites

help:
	@echo "make up            platform stack, then every approach stack (crossplane kro kratix)"
	@echo "make up-<stack>    one stack (platform first)"
	@echo "make down          approach stacks, then the platform (cluster last)"
	@echo "make test          the whole test suite (no cluster needed)"
	@echo "make plan STACK=x  offline plan of stack x as JSON"
	@echo "make app-local     the session API against a local DynamoDB emulator"

$(VENV)/.installed: requirements.txt requirements-dev.txt app/requirements.txt app/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest

plan: $(VENV)/.installed
	$(PY) -m tools.plan $(STACK)

$(PASSPHRASE_FILE):
	mkdir -p $(dir $@)
	umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > $@
	@echo "Generated a Pulumi passphrase in $@ (keep it to manage these stacks)."

prerequisites:
	@command -v docker >/dev/null || { echo "docker is required: https://docs.docker.com/get-docker/"; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "docker is installed but its engine is not running"; exit 1; }
	@command -v k3d >/dev/null || { echo "k3d is required: https://k3d.io (pinned: see components/versions.py)"; exit 1; }
	@command -v pulumi >/dev/null || { echo "the Pulumi CLI is required: https://www.pulumi.com/docs/install/"; exit 1; }

up-%: $(VENV)/.installed $(PASSPHRASE_FILE) prerequisites
	mkdir -p .pulumi-state
	pulumi stack select --create --non-interactive $* >/dev/null
	pulumi up --yes --non-interactive --stack $*

down-%: $(VENV)/.installed
	pulumi destroy --yes --non-interactive --stack $*

up: up-platform $(addprefix up-,$(APPROACHES))

down: $(addprefix down-,$(APPROACHES)) down-platform

app-local: $(VENV)/.installed
	cd app && ../$(PY) -m session_api.local
