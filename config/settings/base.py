"""Settings shared by every environment.

Everything configurable is read from the environment here, once, through ``env``.
The defaults are the embedded ones (SQLite, local-memory cache, eager Celery, console
email), so ``make run`` needs no server; set ``DATABASE_URL``, ``REDIS_URL`` and
``CELERY_BROKER_URL`` to use real services.
https://docs.djangoproject.com/en/5.2/topics/settings/
"""
from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# An env file (written by `make stack`, or by hand) is read if present; real
# environment variables always win over it.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

# --- Core --------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_prometheus",
    "resilience",
    "shop",
]

MIDDLEWARE = [
    # First and last: django-prometheus times everything in between.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "resilience.middleware.ProbeEndpointsMiddleware",
    "resilience.middleware.LoadSheddingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # WhiteNoise serves static files when no nginx is in front (make run, tests);
    # behind nginx, nginx serves them and this never sees the request.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "resilience.waitingroom.middleware.WaitingRoomMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = env.str("ROOT_URLCONF", default="config.urls")  # `make bench` adds its reference views
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.storefront",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
# Persistent connections, not Django's psycopg pool. gunicorn runs gthread workers with
# GUNICORN_THREADS (2) threads, and Django keeps one connection per thread: keeping it open
# saves the connect cost (the single biggest cost of an uncached page here), and the count
# stays replicas x workers x threads, which is what max_connections is sized against. A pool
# would share a worker's connections between its threads: with two threads it saves at most
# one connection per worker and adds a wait when both need the database at once.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=2))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions --------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The waiting room's state (its queue, who is in) must never be evicted to make room for cached
# pages, which any URL can add: give it a Redis of its own with maxmemory-policy noeviction
# (compose's redis-state, beside the broker). Unset, it shares REDIS_URL.
WAITINGROOM_REDIS_URL = env.str("WAITINGROOM_REDIS_URL", default=REDIS_URL)


def redis_cache(url: str, *, prefix: str, ignore_errors: bool) -> dict:
    """A django-redis cache that fails fast and stops calling a Redis that is down."""
    # https://github.com/jazzband/django-redis#memcached-exceptions-behavior
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
            "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
            "REDIS_CLIENT_CLASS": "resilience.redis_client.CircuitBreakerRedis",
            "IGNORE_EXCEPTIONS": ignore_errors,
        },
    }


if REDIS_URL:
    CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="stampede")
    CACHES = {
        # The resilience helpers read through "default" and handle (and count) its errors.
        "default": redis_cache(REDIS_URL, prefix=CACHE_KEY_PREFIX, ignore_errors=False),
        # Django's session backend does not: an outage must read as a miss, not a crash.
        "sessions": redis_cache(REDIS_URL, prefix=CACHE_KEY_PREFIX, ignore_errors=True),
        "waitingroom": redis_cache(WAITINGROOM_REDIS_URL, prefix=CACHE_KEY_PREFIX, ignore_errors=False),
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "stampede"},
        "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "stampede-sessions"},
        "waitingroom": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "stampede-room"},
    }
# {% cache %} fragments live in each process: no network hop, and their keys carry the
# catalog version, so an edit replaces them everywhere at once.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "stampede-fragments",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

# cached_db: reads come from the cache, every write also goes to the database, so a
# Redis outage never empties a cart (the session is read back from the database).
# Content-Security-Policy (django-csp): scripts, styles, images and forms from this site only;
# pages with no inline script or style (tests/shop/test_security_headers.py keeps it so).
# The admin is left out: Django's admin templates carry inline styles, and it is staff-only.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The page script reads the CSRF token from /cart/state/, never from the cookie.
CSRF_COOKIE_HTTPONLY = True

SESSION_ENGINE = "shop.sessions"  # cached_db, refusing forged keys before they reach PostgreSQL
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Celery ------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# With no broker configured, tasks run in-process at once (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="stampede")
# A task is acknowledged only after it finished, and a worker that dies mid-task hands
# it back: an order is processed at least once, and the task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 10
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis re-delivers an unacknowledged task after this long. It must exceed the
    # longest a task can run (the time limit) or a slow task would run twice at once;
    # it is also how long a task lost with its worker waits before it is retried.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
# Checkout must not hang on a dead broker: try briefly, then leave it to the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.4}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Often, so an order nobody works on is queued again within seconds of being found so; a sweep
# still waiting after one interval (no worker took it) is dropped, as the next does its work.
ORDER_SWEEP_INTERVAL_SECONDS = env.int("ORDER_SWEEP_INTERVAL_SECONDS", default=15)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-orders": {
        "task": "shop.tasks.orders_sweep_stuck",
        "schedule": ORDER_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": ORDER_SWEEP_INTERVAL_SECONDS},
    },
    "clear-expired-sessions": {"task": "shop.tasks.sessions_clear_expired", "schedule": 60 * 60},
}

# --- Email -------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# filemail:////absolute/folder keeps every message as a file (`make stack`, audited by `make loadtest`).
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(BASE_DIR / "var" / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Stampede Shop <orders@stampede.example>")
EMAIL_TIMEOUT = 10

# --- The shop ----------------------------------------------------------------
SHOP_NAME = env.str("SHOP_NAME", default="Stampede")
SHOP_BASE_URL = env.str("SHOP_BASE_URL", default="http://127.0.0.1:8000")  # for links in emails
SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="EUR")
SHOP_MAX_QUANTITY_PER_LINE = env.int("SHOP_MAX_QUANTITY_PER_LINE", default=20)
SHOP_PRODUCTS_PER_PAGE = 24
# A worker's task claims an order before working on it (shop/services/leases.py), for the task's
# time limit and this margin; once that lapses (the worker died) the sweeper queues it again.
SHOP_ORDER_LEASE_MARGIN_SECONDS = env.int("SHOP_ORDER_LEASE_MARGIN_SECONDS", default=10)
# An order no worker has claimed this long after checkout (the broker was down, the message was
# lost with its worker) is queued again; so is one queued again this long ago and still unclaimed.
SHOP_ORDER_UNCLAIMED_AFTER_SECONDS = env.int("SHOP_ORDER_UNCLAIMED_AFTER_SECONDS", default=30)
SHOP_PAYMENT_GATEWAY = env.str("SHOP_PAYMENT_GATEWAY", default="shop.payments.FakeGateway")
FAKE_PAYMENT_GATEWAY = "shop.payments.FakeGateway"
# A demo shop: the fake processor approves orders nobody paid for, and checkout says so.
# Production settings refuse the fake processor unless this is set (make stack, compose).
SHOP_DEMO_PAYMENTS = env.bool("SHOP_DEMO_PAYMENTS", default=SHOP_PAYMENT_GATEWAY == FAKE_PAYMENT_GATEWAY)
# The fake gateway's behaviour, for development and tests: approve, decline, delay, unavailable.
SHOP_FAKE_PAYMENT_OUTCOME = env.str("SHOP_FAKE_PAYMENT_OUTCOME", default="approve")
SHOP_FAKE_PAYMENT_DELAY_SECONDS = env.float("SHOP_FAKE_PAYMENT_DELAY_SECONDS", default=2.0)
# Where the fake gateway keeps its record of charges: empty for this process's memory, or
# a SQLite file every process of a stack shares, as a real provider's one record.
SHOP_FAKE_PAYMENT_LEDGER = env.str("SHOP_FAKE_PAYMENT_LEDGER", default="")

# --- Static and media files --------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Serve uploaded product images from Django itself; off where nginx serves /media/.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.server": {"level": "INFO"}},
}
CSRF_FAILURE_VIEW = "shop.views.errors.csrf_failure"

# --- Resilience (defaults and meanings: resilience/defaults.py) -----------------
RESILIENCE_METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
RESILIENCE_METRICS_CELERY_QUEUES = [CELERY_TASK_DEFAULT_QUEUE]
RESILIENCE_SHED_AFTER_SECONDS = env.float("SHED_AFTER_SECONDS", default=2.0)
RESILIENCE_SHED_PROTECTED_AFTER_SECONDS = env.float("SHED_PROTECTED_AFTER_SECONDS", default=10.0)
# Visitors with a cart who are checking out are the last to be turned away.
RESILIENCE_SHED_PROTECTED_PATHS = ["/checkout/", "/cart/", "/orders/"]
# A visitor holding a cart when the room engages may finish buying (cart and checkout, counted
# as active); order status pages are never queued. Browsing on takes a pass.
RESILIENCE_WAITINGROOM_ADMIT_IF = "shop.selectors.visitor_holds_cart"
RESILIENCE_WAITINGROOM_BUYING_PATHS = ["/cart/", "/checkout/"]
RESILIENCE_WAITINGROOM_EXEMPT_PATHS = ["/admin/", "/static/", "/media/", "/favicon.ico", "/orders/"]
# In auto mode the room engages when placing an order gets slow (or requests queue too long).
RESILIENCE_WAITINGROOM_WATCHED_PATHS = ["/checkout/"]
RESILIENCE_WAITINGROOM_CACHE_ALIAS = "waitingroom"
RESILIENCE_WAITINGROOM_KEY_PREFIX = f"{CACHES['default'].get('KEY_PREFIX', 'stampede')}:waitingroom"
RESILIENCE_WAITINGROOM_SITE_NAME = SHOP_NAME
RESILIENCE_WAITINGROOM_FAIL_OPEN = env.bool("WAITINGROOM_FAIL_OPEN", default=True)
RESILIENCE_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
