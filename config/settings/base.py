"""Settings shared by every environment.

Everything configurable is read from the environment once, through the one ``env``
(env.py): the core here, each concern in a module of its own, imported at the end
(caches and sessions, security, Celery, mail, the shop, logging, resilience).
The defaults are the embedded ones (SQLite, local-memory cache, eager Celery, console
email), so ``make run`` needs no server; set ``DATABASE_URL``, ``REDIS_URL`` and
``CELERY_BROKER_URL`` to use real services.
https://docs.djangoproject.com/en/5.2/topics/settings/
"""

from __future__ import annotations

from .env import BASE_DIR, env

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
    # Above sessions and CSRF: it sees the cookies they set, and versions the page script's state.
    "shop.middleware.CartStateVersionMiddleware",
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
# one connection per worker and adds a wait when both need the database at once. Measured by
# `make bench` (loadtest/bench_connections.py), on one replica of 3 workers x 2 threads: the
# uncached page at 563 requests/s with 11 connections opened in all, against 184 requests/s
# and 5,671 connections with CONN_MAX_AGE=0.
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

# --- By concern ----------------------------------------------------------------
from .caches import *  # noqa: E402,F403
from .celery import *  # noqa: E402,F403
from .logging import *  # noqa: E402,F403
from .mail import *  # noqa: E402,F403
from .resilience import *  # noqa: E402,F403
from .security import *  # noqa: E402,F403
from .shop import *  # noqa: E402,F403
