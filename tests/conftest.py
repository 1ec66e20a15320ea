"""Shared fixtures: a two-county world with one user per role, eager Celery by default,
a real Celery worker process (``celery_worker_process``) and a real Chromium (``browser``).
"""

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as dj_settings
from django.db import connection

from jinpin import celery_app
from jinpin.scope import Role

from .factories import CountyFactory, SchoolFactory, TownFactory, VillageFactory, make_user, rural_school

# Playwright's sync API keeps an event loop on the main thread; Django's ORM calls made by
# the tests themselves are still synchronous, so tell Django they are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Fast password hashing in tests (the production hasher costs ~0.3 s a user).
dj_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

# `make test` runs the suite in two pytest-xdist workers (gw0, gw1). pytest-django gives each its own test
# database (test_<name>_gw0, ...); the Redis cache is shared, and its keys are named by settings after the
# database's name before the test database exists, so both workers would read each other's figures and
# stamps and clear each other's keys before every test (``_empty_cache``). Each worker gets its own prefix,
# and every process it starts (the Celery workers: ``_worker_env``) the same one. Set here, before any cache
# object is made (the cache handler reads this dict when the first one is).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER and "KEY_PREFIX" in dj_settings.CACHES["default"]:
    # "jinpin:jinpin_gw0": clear() deletes "jinpin:jinpin_gw0:*", never a match for another worker's keys
    # (nor for those of a run without xdist, "jinpin:jinpin:*")
    dj_settings.CACHES["default"]["KEY_PREFIX"] += f"_{XDIST_WORKER}"
    os.environ["CACHE_KEY_PREFIX"] = dj_settings.CACHES["default"]["KEY_PREFIX"]


#: The longest tests (measured with --durations, two workers), longest first. ``make test`` deals tests
#: out one at a time (--dist loadgroup) in collection order, so these go first among the tests of their kind:
#: started last, the crawl alone would keep one core busy for minutes after the other ran out of work.
#: A prefix of a test's node id; a test not listed keeps its place. Only the order changes, never what runs.
LONGEST_FIRST = (
    "tests/jinpin/test_crawl.py::test_every_page_reachable_by_each_role",
    "tests/jinpin/test_demo_figures.py::",
    "tests/jinpin/test_fuzz.py::test_no_input_gives_a_server_error",
    "tests/jinpin/test_browser_home.py::test_in_the_demo_city",
    "tests/subsidies/test_demo_year.py::",
    "tests/subsidies/test_batch_eager_vs_worker.py::",
    "tests/jinpin/test_worker.py::test_a_killed_worker_job_is_redelivered",
    "tests/jinpin/test_phone_width.py::",
    "tests/subsidies/test_batch_worker.py::test_worker_killed_mid_batch",
    "tests/jinpin/test_pagecache.py::test_every_kept_page_as_every_role",
    "tests/inspections/test_anomaly_findings.py::",
    "tests/inspections/test_demo.py::",
    "tests/jinpin/test_privacy.py::test_every_page_as_every_role",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """The longest tests first (``LONGEST_FIRST``). Runs before pytest-django's own (stable) sort, which then
    puts the tests in Django's order as before — rolled-back database tests, then transactional ones, then
    those without a database — so each stays first among its kind, and each worker keeps Django's order."""

    def rank(item):
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


def have_broker() -> bool:
    return bool(dj_settings.CELERY_BROKER_URL)


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path_factory):
    """Each test writes exports and uploads under its own temporary PRIVATE_ROOT."""
    root = tmp_path_factory.mktemp("private")
    settings.PRIVATE_ROOT = root
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    yield


@pytest.fixture(scope="session", autouse=True)
def _cache_prefix_in_force():
    """The cache object really uses this worker's prefix (it was not made before the prefix was set above)."""
    from django.core.cache import cache

    assert getattr(cache, "key_prefix", "") == dj_settings.CACHES["default"].get("KEY_PREFIX", "")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached figures are keyed by ids that a rolled-back test hands out again, and a test's writes never
    commit (so never move a stamp): every test starts with an empty cache (only jinpin's keys: the
    Redis cache may share its database with the broker)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _page_cache(request, settings):
    """Kept pages (jinpin.pagecache) are on where a test drives the site as its users do — the browser tests, whose
    forms write and whose lists must then show it — and in their own tests (tests/jinpin/test_pagecache.py,
    including every kept page as every role against a fresh render). Elsewhere a test reads a second
    response's template context or counts the queries of a render, which a kept page does not have."""
    settings.PAGE_CACHE = bool(
        request.node.get_closest_marker("browser") or request.node.get_closest_marker("page_cache")
    )
    yield


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run in-process (inline, not in a thread) unless a test asks for the real worker."""
    settings.JOBS_IN_THREAD = False
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


@pytest.fixture
def world(db):
    """Two counties; each with a strong urban school and a weak school in a provincial poor village."""
    a = CountyFactory(code="370830", name="汶上县")
    b = CountyFactory(code="370831", name="泗水县")

    class W:
        pass

    w = W()
    w.county_a, w.county_b = a, b
    w.town_a = TownFactory(county=a, code="370830003")
    w.town_b = TownFactory(county=b, code="370831003")
    w.village_a = VillageFactory(town=w.town_a, code="370830003001")
    w.village_b = VillageFactory(town=w.town_b, code="370831003001")
    w.strong_a = SchoolFactory(county=a, code="0830000001", name="汶上实验小学")
    w.weak_a = rural_school(county=a, village=w.village_a, code="0830000002", name="汶上李庄小学")
    w.strong_b = SchoolFactory(county=b, code="0831000001", name="泗水实验小学")
    w.weak_b = rural_school(county=b, village=w.village_b, code="0831000002", name="泗水王庄小学")
    w.admin = make_user(Role.CITY_ADMIN, username="t_admin")
    w.officer_a = make_user(Role.COUNTY_OFFICER, county=a, username="t_officer_a")
    w.officer_b = make_user(Role.COUNTY_OFFICER, county=b, username="t_officer_b")
    w.principal_a = make_user(Role.PRINCIPAL, school=w.weak_a, username="t_principal_a")
    w.principal_strong_a = make_user(Role.PRINCIPAL, school=w.strong_a, username="t_principal_strong_a")
    w.principal_b = make_user(Role.PRINCIPAL, school=w.weak_b, username="t_principal_b")
    w.inspector = make_user(Role.INSPECTOR, username="t_inspector")
    w.auditor = make_user(Role.AUDITOR, username="t_auditor")
    return w


@pytest.fixture
def django_assert_num_queries(django_assert_num_queries):
    """pytest-django's, with every model's content type read first: Django keeps content types in a per-process
    cache that a flushing (transactional) test empties and any audited write fills, so whether a counted block's
    first audit entry reads one depended on which tests ran before it in the same xdist worker (a query-count test
    failed in CI with one query more, 2026-12-04). Read here, outside the block, each counted block counts the
    same whatever ran before it."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    def counted(*args, **kwargs):
        models = apps.get_models()
        ContentType.objects.get_for_models(*models)
        ContentType.objects.get_for_models(*models, for_concrete_models=False)
        return django_assert_num_queries(*args, **kwargs)

    return counted


@pytest.fixture
def client_for(client):
    """``client_for(user)`` -> a test client logged in as ``user``."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def officer(world, client_for):
    """County A's officer, whose requests come back as responses even when a view raises (a 500 is asserted on)."""
    c = client_for(world.officer_a)
    c.raise_request_exception = False
    return c


# -- a real Celery worker ---------------------------------------------------------
def _worker_env():
    db = connection.settings_dict
    env = dict(os.environ)
    host = quote(db["HOST"] or "127.0.0.1", safe="")  # a Unix socket directory (the embedded server) is encoded
    env["DATABASE_URL"] = "postgres://{USER}@{HOST}{PORT}/{NAME}".format(
        USER=db["USER"] or "postgres", HOST=host, PORT=f":{db['PORT']}" if db["PORT"] else "", NAME=db["NAME"]
    )
    env["CELERY_BROKER_URL"] = dj_settings.CELERY_BROKER_URL
    # the test process's cache keys (settings named them after the database before the test database existed)
    env["CACHE_KEY_PREFIX"] = dj_settings.CACHES["default"].get("KEY_PREFIX", "")
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    env["PRIVATE_ROOT"] = str(dj_settings.PRIVATE_ROOT)
    env["MEDIA_ROOT"] = str(dj_settings.MEDIA_ROOT)
    env["CONN_MAX_AGE"] = "0"
    return env


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real ``celery worker`` process on the test database, through Redis.

    Uses its own queue name so that stray workers elsewhere cannot take its tasks.
    """
    with celery_worker() as proc:
        yield proc


@contextlib.contextmanager
def celery_worker():
    """Start a real worker for the block (the test must use ``transactional_db``)."""
    if not have_broker():
        pytest.fail(
            "a real Celery worker needs a broker: run `make test` (it starts a private redis-server when "
            "CELERY_BROKER_URL is unset) or set CELERY_BROKER_URL=redis://..."
        )
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    celery_app.conf.task_always_eager = False
    old_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    env = _worker_env()
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "jinpin",
            "worker",
            "-Q",
            queue,
            "-c",
            "2",
            "--pool",
            "prefork",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1.0)
        if replies:
            break
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited:\n" + proc.stdout.read())
    else:
        proc.kill()
        raise RuntimeError("celery worker did not start in 60 s")
    proc.queue = queue
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        celery_app.conf.task_default_queue = old_queue
        celery_app.conf.task_always_eager = True


# -- a real browser ------------------------------------------------------------------
@pytest.fixture(scope="session")
def _playwright():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_playwright, live_server):
    """A fresh browser context (Chinese locale) with a helper to log in."""
    context = _playwright.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)

    def login(username, password="pw-Jinpin-2016"):
        page.goto(live_server.url + "/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.wait_for_url(live_server.url + "/home/")

    page.login = login
    page.base = live_server.url
    yield page
    context.close()


@pytest.fixture
def reference_data(django_db_blocker):
    """The migrations' seeded rows, back after an earlier transactional test's flush (tests/reference_data.py)."""
    from .reference_data import reseed

    with django_db_blocker.unblock():
        reseed()
