"""jinpin settings.

Everything that differs between a laptop, CI and production comes from the
environment (django-environ). jinpin runs on PostgreSQL only: with ``DATABASE_URL``
unset it uses the embedded server that ``make run`` and ``make test`` start
(``jinpin/pgserver.py``, data under ``var/pg``), and without ``CELERY_BROKER_URL``
it runs Celery tasks in-process; with them set it runs on that PostgreSQL and a
real Redis broker with separate workers.
"""

from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from jinpin.pgserver import Server as EmbeddedPostgres

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    SECURE=(bool, False),
)

DEBUG = env("DEBUG")
# Production must set SECRET_KEY: `check --deploy` fails on the development key
# (jinpin.checks).
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

# Where uploaded and generated files live. PRIVATE_ROOT is never served by a
# public URL: exports and signed documents go there and are streamed by views
# that check the requester's scope.
DATA_DIR = Path(env("JINPIN_DATA_DIR", default=str(BASE_DIR / "var")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media")))
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", default=str(DATA_DIR / "private")))
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(DATA_DIR / "static")))
for _d in (DATA_DIR, PRIVATE_ROOT, STATIC_ROOT):
    _d.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "csp",
    "axes",
    "auditlog",
    "jinpin",
    "schools",
    "teachers",
    "pairing",
    "subsidies",
    "inspections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # each cache stamp read once per request (jinpin.cache)
    "jinpin.cache.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jinpin.locale_middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jinpin.scope.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    "jinpin.dberrors.GuardMiddleware",
    "jinpin.middleware.PrivateResponseMiddleware",
    # logging out (or another user logging in) clears the field cards kept on the phone
    "inspections.field_data.ClearFieldDataMiddleware",
    # last: a kept list page is served from the shared cache while nothing it shows has changed (jinpin.pagecache)
    "jinpin.pagecache.PageCacheMiddleware",
]

ROOT_URLCONF = "jinpin.urls"
# Django's plain widgets (select, option, input) written in Python, same bytes (jinpin/render.py)
FORM_RENDERER = "jinpin.render.FastWidgetRenderer"
WSGI_APPLICATION = "jinpin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jinpin.scope.context_processor",
                "jinpin.pagecache.context_processor",
            ],
            # {% url %} reversing each name once per process (jinpin/templatetags/fasturl.py)
            "builtins": ["jinpin.templatetags.fasturl"],
        },
    },
]

# PostgreSQL only. With DATABASE_URL unset, the embedded server that `make run` / `make test`
# start (jinpin/pgserver.py: `python -m jinpin.pgserver start` keeps one running for a shell).
_db_url = env("DATABASE_URL", default="") or EmbeddedPostgres().url()
_db = env.db_url_config(_db_url)
if _db["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must point at PostgreSQL (postgres://user@host:port/name), not {_db_url.split(':', 1)[0]}:"
        " jinpin runs on PostgreSQL only. Unset DATABASE_URL to use the embedded server (make run / make test)."
    )
if str(_db["HOST"]).lower().startswith("%2f"):  # a Unix socket directory, percent-encoded as libpq writes it
    _db["HOST"] = unquote(_db["HOST"])
DATABASES = {"default": _db}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
# PostgreSQL's JIT compiler costs 0.5-2 s on jinpin's set-based scans and saves
# nothing at this size (benchmarks/bench_teachers.py, bench_pairing.py).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# The running application (runserver, gunicorn, Celery) connects as a role that owns nothing and may only
# read and add audit entries (jinpin/db_roles.py, `manage.py setup_db_roles`); `migrate`, `flush` and
# `setup_db_roles` switch to the owner (DATABASE_URL). Either a separate login, APP_DATABASE_URL (production),
# or DATABASE_ROLE: the owner's login switches to that role on connecting (one login, e.g. the embedded server).
DATABASE_OWNER = None
DATABASE_APP_ROLE = ""
_owner = dict(DATABASES["default"])
if env("APP_DATABASE_URL", default=""):
    _app = env.db("APP_DATABASE_URL")
    DATABASE_APP_ROLE = _app["USER"]
    DATABASES["default"].update({k: _app[k] for k in ("USER", "PASSWORD", "HOST", "PORT") if _app.get(k)})
    DATABASE_OWNER = {k: _owner[k] for k in ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}
elif env("DATABASE_ROLE", default=""):
    DATABASE_APP_ROLE = env("DATABASE_ROLE")
    DATABASE_OWNER = {"OPTIONS": dict(_owner["OPTIONS"])}
    DATABASES["default"]["OPTIONS"] = {
        **_owner["OPTIONS"],
        "options": f"{_owner['OPTIONS']['options']} -c role={DATABASE_APP_ROLE}",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it throttles and logs repeated failed logins.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the user's membership (role and scope) in the same query
    # (jinpin.accounts). Its get_user() refuses inactive users, so deactivating a user ends every
    # session of theirs on its next request.
    "jinpin.accounts.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# A filter's empty choice reads 全部 ("All"), not django-filter's "---------".
FILTERS_EMPTY_CHOICE_LABEL = gettext_lazy("All")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Dates as 2016-09-26 in every language, set once (jinpin/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = "jinpin.formats"

# Sessions and CSRF as Django ships them, tightened.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env("SECURE"):
    # Production behind TLS: `SECURE=1 manage.py check --deploy` is clean.
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content Security Policy (django-csp): no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: spreadsheets and documents are read from memory or a temp file; the
# import base enforces its own, smaller limits on top.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=72)

# Audit log (django-auditlog): who, when, what changed, from where.
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Celery. Without a broker URL the tasks run in-process (eager), which is what
# the zero-configuration `make run` uses.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
# Without a broker a job runs in a thread of the web process (jinpin.jobs.dispatch), so its page
# shows live progress; its helper tasks (the batch's chunk workers) then run eagerly in that thread.
JOBS_IN_THREAD = env.bool("JOBS_IN_THREAD", default=not CELERY_BROKER_URL)

# The cache: Redis, shared by every web and worker process, whenever a Redis URL is configured
# (CACHE_URL, else the broker's); a per-process LocMem cache otherwise. What is cached and how it
# is invalidated: jinpin/cache.py and the README's performance section.
CACHE_URL = env("CACHE_URL", default="") or CELERY_BROKER_URL
if CACHE_URL.startswith("redis+socket://"):  # Celery's name for a Redis Unix socket (the private redis-server of
    CACHE_URL = "unix://" + CACHE_URL.removeprefix("redis+socket://")  # `make run`/`make test`): redis-py's is unix://
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "jinpin.cache.PrefixedRedisCache",
            "LOCATION": CACHE_URL,
            # one jinpin database, one set of keys: two sites (or a test run and the demo) sharing a Redis never
            # read each other's figures. By the database's name only, so that every web and worker process of a
            # site agrees whatever host name it reaches the server by (set CACHE_KEY_PREFIX where two servers'
            # databases share a name and a Redis).
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default=f"jinpin:{_db.get('NAME', '')}"),
            "TIMEOUT": 600,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": 600}}
# Sessions: in the shared cache, written through to the database (Django's cached_db), so that a request
# reads its session with one Redis GET instead of a query; with the per-process LocMem cache in the database
# only (a logout in one process must end the session in every other).
if CACHES["default"]["BACKEND"] == "jinpin.cache.PrefixedRedisCache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Rendered list pages kept in the shared cache while nothing they show changes (jinpin/pagecache.py): only
# with Redis, where every process sees every other's writes.
PAGE_CACHE = env.bool("PAGE_CACHE", default=CACHES["default"]["BACKEND"] == "jinpin.cache.PrefixedRedisCache")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Re-delivery of an unacknowledged task happens after the visibility timeout:
# it must be longer than the longest task, or a running task is delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
CELERY_TIMEZONE = TIME_ZONE
# Jobs' liveness (jinpin/jobs.py): a running job refreshes its heartbeat every JOB_HEARTBEAT_SECONDS;
# one silent for JOB_STALE_SECONDS is re-queued (JOB_MAX_ATTEMPTS in all) or failed with a reason;
# a queued job sent JOB_RESEND_SECONDS ago and never started is sent again (a broker that lost it).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=90.0)
JOB_RESEND_SECONDS = env.float("JOB_RESEND_SECONDS", default=600.0)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_REAP_SECONDS = env.float("JOB_REAP_SECONDS", default=60.0)  # how often beat runs the reaper
# Transient database errors: how long a job keeps retrying (with backoff) before giving up.
JOB_DB_RETRY_SECONDS = env.float("JOB_DB_RETRY_SECONDS", default=120.0)
IMPORT_MAX_QUEUED_PER_USER = env.int("IMPORT_MAX_QUEUED_PER_USER", default=2)
IMPORT_INLINE_MAX_BYTES = env.int("IMPORT_INLINE_MAX_BYTES", default=256 * 1024)
CELERY_BEAT_SCHEDULE = {
    "purge-expired-job-files": {"task": "jinpin.tasks.purge_expired_jobs", "schedule": 3600.0},
    # the audit chain and the sealed payout batches, recomputed every night (03:30); the result is stored
    "verify-audit-trail": {"task": "jinpin.tasks.verify_audit", "schedule": crontab(minute=30, hour=3)},
    "reap-stuck-jobs": {"task": "jinpin.tasks.reap_stuck_jobs", "schedule": JOB_REAP_SECONDS},
    # the dashboards' figures and charts a write invalidated, recomputed into the cache (jinpin/dashboard.py: warm;
    # jobs that change data send it at once): every 30 s, a few hundred cache reads when nothing moved
    "warm-dashboards": {"task": "jinpin.tasks.warm_dashboards", "schedule": 30.0},
    # The provinces re-match the poor-household registry weekly; so do we (Monday 02:00).
    "subsidies-rematch-registry": {
        "task": "subsidies.tasks.rematch_registry",
        "schedule": crontab(minute=0, hour=2, day_of_week=1),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
