"""The 2023 configuration that `make loadtest` compares against: the same shop, every defence off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "middleware": settings.MIDDLEWARE,
    "caches": {alias: cache["BACKEND"] for alias, cache in settings.CACHES.items()},
    "sessions": settings.SESSION_ENGINE,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
}))
"""
SHEDDING = "resilience.middleware.LoadSheddingMiddleware"
ROOM = "resilience.waitingroom.middleware.WaitingRoomMiddleware"
CART_STATE_VERSION = "shop.middleware.CartStateVersionMiddleware"
DEFENCES = (SHEDDING, ROOM, CART_STATE_VERSION)


def settings_of(module: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "SECRET_KEY": "k" * 64,
        "ENV_FILE": "/nonexistent",
        "SHOP_DEMO_PAYMENTS": "true",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    }
    done = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_the_2023_configuration_caches_nothing_sheds_nothing_queues_nobody_and_charges_in_the_request():
    legacy = settings_of("config.settings.outage_2023")

    assert set(legacy["caches"].values()) == {"django.core.cache.backends.dummy.DummyCache"}
    assert legacy["sessions"] == "django.contrib.sessions.backends.db"
    assert legacy["eager"] is True
    assert not set(DEFENCES) & set(legacy["middleware"])


def test_it_differs_from_production_only_in_the_defences():
    legacy, production = settings_of("config.settings.outage_2023"), settings_of("config.settings.production")

    assert production["eager"] is False
    assert set(DEFENCES) <= set(production["middleware"])
    assert [name for name in production["middleware"] if name not in DEFENCES] == legacy["middleware"]
    assert production["caches"]["default"] == "django_redis.cache.RedisCache"
