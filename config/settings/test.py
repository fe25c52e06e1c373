"""Test settings: the real PostgreSQL and Redis on this machine, a per-run namespace.

Each run gets its own database, cache key prefix and Celery queue, so two runs on one
machine (or a run beside `make stack`) never read each other's data.
"""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, CACHES, DATABASES, STORAGES, env, redis_cache

RUN_ID = os.environ.setdefault("STAMPEDE_TEST_RUN_ID", str(os.getpid()))

DATABASES["default"] = env.db("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/postgres")
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": f"test_stampede_{RUN_ID}"}

TEST_REDIS_URL = env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES["default"] = redis_cache(TEST_REDIS_URL, prefix=f"stampede-test-{RUN_ID}", ignore_errors=False)
CACHES["sessions"] = redis_cache(TEST_REDIS_URL, prefix=f"stampede-test-{RUN_ID}", ignore_errors=True)
CACHES["waitingroom"] = redis_cache(TEST_REDIS_URL, prefix=f"stampede-test-{RUN_ID}", ignore_errors=False)

CELERY_BROKER_URL = env.str("TEST_CELERY_BROKER_URL", default=TEST_REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = f"stampede-test-{RUN_ID}"

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# WhiteNoise scans STATIC_ROOT for every test client; never let that be staticfiles/, which `make stack`
# and `make bench` rewrite with collectstatic at any moment. No test reads a collected file.
STATIC_ROOT = BASE_DIR / "var" / f"test-static-{RUN_ID}"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SHOP_FAKE_PAYMENT_DELAY_SECONDS = 0.2
SERVE_MEDIA = False
RESILIENCE_METRICS_CELERY_QUEUES = [CELERY_TASK_DEFAULT_QUEUE]
RESILIENCE_READINESS_CACHE_SECONDS = 0  # each test's dependency switches show at once
RESILIENCE_WAITINGROOM_KEY_PREFIX = f"stampede-test-{RUN_ID}:waitingroom"
# Tests switch the room explicitly (and clear the cached configuration); no periodic re-reads.
RESILIENCE_WAITINGROOM_CONFIG_REFRESH_SECONDS = 3600
