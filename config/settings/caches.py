"""The caches (Redis, or local memory in the embedded default) and the sessions they hold."""

from __future__ import annotations

from .env import env

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
SESSION_ENGINE = "shop.sessions"  # cached_db, refusing forged keys before they reach PostgreSQL
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
