# Two commands set up Doorstep on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS := .tools
# Use the machine's uv when it works; otherwise install one into .tools.
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo $(TOOLS)/bin/uv)
PY := .venv/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help install messages translations run test bench lint format clean

help:
	@echo "make run    install, migrate, seed demo data, start web + Celery worker + beat"
	@echo "make test   install and run the whole test suite"
	@echo "make bench  benchmarks: admin pages, reminder delivery, free windows, My desk, customer import (large synthetic data)"

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

install: $(if $(filter uv,$(UV)),,$(TOOLS)/bin/uv)
	$(UV) sync --locked --quiet

messages: install
	DEBUG=1 $(PY) manage.py compile_catalogs -v0

# Refresh the catalogs from the source after changing user-facing strings.
translations: install
	DEBUG=1 $(PY) manage.py makemessages -l de -l nl --no-location -v0 \
		--ignore=.venv --ignore=.tools --ignore=var --ignore=tests --ignore=bench --ignore=node_modules

run: messages
	DEBUG=1 $(PY) manage.py migrate --noinput -v0
	DEBUG=1 $(PY) manage.py seed_demo
	@echo
	@echo "  Doorstep runs at http://127.0.0.1:$(PORT)/  (the office lands on the dispatch board; admin at /admin/; Ctrl-C stops web, worker and beat)"
	@echo "  Each mail is one line on this console; read it in full in the admin's outbox (Benachrichtigungen › Postausgang)."
	@echo "  EMAIL_URL=console:// make run prints whole mails instead."
	@echo "  The office user is a superuser: its first sign-in sets up an authenticator app (QR code; README: Staff sign-in)."
	@echo
	DEBUG=1 CELERY_TASK_LOG_LEVEL=WARNING DOORSTEP_PORT=$(PORT) SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" $(PY) -m honcho --procfile config/Procfile --app-root . start

# Nu HTML checker and axe-core for the page-quality tests; without npm those tests skip.
node_modules: package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch node_modules

test: messages $(if $(shell command -v npm),node_modules)
	$(PY) -m pytest $(PYTEST_ARGS)

# Each part prints its figures next to a baseline measured in the same run.
bench: messages
	$(PY) bench/run.py
	$(PY) bench/reminders.py
	$(PY) bench/availability.py
	$(PY) bench/cards.py
	$(PY) bench/desk_page.py
	$(PY) bench/imports.py

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean:
	rm -rf .venv $(TOOLS) var
