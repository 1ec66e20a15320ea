# jinpin: two commands. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test lint format install messages migrate demo worker beat bench clean check-deploy roles

# Installs the locked versions, every file checked against its hash (requirements*.lock, made from
# requirements*.txt with `uv pip compile --generate-hashes --python-version 3.11 requirements-dev.txt -o requirements-dev.lock`).
$(STAMP): requirements.lock requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q --require-hashes -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(PY) manage.py compilemessages_py

migrate: messages
	$(PY) manage.py migrate --noinput

# PostgreSQL: the role the running app connects as (owns nothing; audit log SELECT/INSERT only). Idempotent;
# then run the app with DATABASE_ROLE=$(APP_ROLE) (or APP_DATABASE_URL for a separate login).
APP_ROLE ?= jinpin_app
roles: migrate
	$(PY) manage.py setup_db_roles --app-role $(APP_ROLE)

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	@echo "jinpin on http://127.0.0.1:8000  (demo logins above; password Jinpin@2016)"
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:8000

# Runs on PostgreSQL + Redis (and a real Celery worker and Chromium) when
# DATABASE_URL / CELERY_BROKER_URL are set, as CI sets them; on SQLite otherwise.
test: messages
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff: lint (pyflakes, pycodestyle, isort, bugbear, pyupgrade, django) and format check.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	$(VENV)/bin/celery -A jinpin worker -l info --concurrency=2

beat: install
	$(VENV)/bin/celery -A jinpin beat -l info

bench: migrate
	$(PY) benchmarks/run_all.py

check-deploy: install
	SECURE=1 DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var .pytest_cache
