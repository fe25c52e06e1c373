"""The two tiers: this process's small LRU, and the shared cache whose failures are counted once."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from resilience.cachestore import CacheUnavailable, LocalTier, shared_call


def errors(reason: str) -> float:
    return REGISTRY.get_sample_value("stampede_cache_errors_total", {"reason": reason}) or 0.0


def test_the_local_tier_keeps_the_most_recently_used_entries_up_to_its_size(settings):
    settings.RESILIENCE_CACHE_LOCAL_ENTRIES = 2
    tier = LocalTier()
    tier.put("a", 1, ttl=60)
    tier.put("b", 2, ttl=60)
    tier.get("a")  # used: "b" is now the oldest

    tier.put("c", 3, ttl=60)

    assert (tier.get("a"), tier.get("b"), tier.get("c")) == (1, None, 3)


def test_the_local_tier_keeps_nothing_past_its_time():
    tier = LocalTier()
    tier.put("gone", 1, ttl=0)
    tier.put("expired", 1, ttl=1e-9)

    assert tier.get("gone") is None and tier.get("expired") is None


def test_one_failed_redis_call_is_counted_once(private_redis):
    private_redis.stop()
    before = errors("error")

    with pytest.raises(CacheUnavailable):
        shared_call("get", "anything")

    assert errors("error") - before == 1  # by the Redis client; the helper sees it is counted


def test_a_call_the_open_circuit_refuses_is_counted_as_that_alone(private_redis, settings):
    settings.RESILIENCE_REDIS_BREAKER_FAILURES = 1
    private_redis.stop()
    with pytest.raises(CacheUnavailable):
        shared_call("get", "opens the circuit")
    failed, refused = errors("error"), errors("circuit_open")

    with pytest.raises(CacheUnavailable):
        shared_call("get", "refused at once")

    assert (errors("error") - failed, errors("circuit_open") - refused) == (0, 1)


def test_an_error_of_a_backend_without_our_redis_client_is_counted_by_the_helper(settings):
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    before = errors("error")

    with pytest.raises(CacheUnavailable):
        shared_call("incr", "never-set")  # Django raises ValueError: no such key

    assert errors("error") - before == 1
