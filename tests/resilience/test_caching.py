"""Cache-aside: versioned keys, "not found" cached, one recomputation at a time, stale on error."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import DatabaseError, transaction
from prometheus_client import REGISTRY

from resilience import caching
from resilience.cachestore import local_tier
from resilience.caching import cached, namespace_bump, namespace_version
from resilience.versions import recent_versions
from tests.concurrency import run_concurrently


class Source:
    """A slow source of truth that counts how often it is asked."""

    def __init__(self, value="fresh", delay: float = 0.0) -> None:
        self.value, self.delay, self.calls = value, delay, 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        return self.value


@pytest.fixture
def later(monkeypatch):
    """Move the cache's clock on: entries go stale, and what never outlives their fresh time is gone with it.

    That is this process's copies (kept at most as long as an entry is fresh) and the refresh
    locks (released by expiring, never later than the fresh time), both timed by Redis or the
    monotonic clock, which no test can move.
    """
    offset = 0.0

    def advance(seconds: float) -> None:
        nonlocal offset
        offset += seconds
        local_tier.clear()
        cache.delete_pattern("lock:*")

    monkeypatch.setattr(
        caching, "time", SimpleNamespace(time=lambda: time.time() + offset, monotonic=time.monotonic, sleep=time.sleep)
    )
    return advance


def errors(reason: str) -> float:
    return REGISTRY.get_sample_value("stampede_cache_errors_total", {"reason": reason}) or 0.0


def test_a_value_is_computed_once_then_served_from_the_cache():
    source = Source("categories")

    assert cached("test", "k", source) == "categories"
    assert cached("test", "k", source) == "categories"
    assert source.calls == 1


def test_not_found_is_cached_too():
    source = Source(value=None)

    assert cached("test", "missing", source) is None
    assert cached("test", "missing", source) is None
    assert source.calls == 1


@pytest.mark.django_db
def test_bumping_a_namespace_after_commit_makes_every_key_new(django_capture_on_commit_callbacks):
    source = Source("v1")
    cached("test", "k", source)
    before = namespace_version("test")

    with django_capture_on_commit_callbacks(execute=True):
        namespace_bump("test")

    assert namespace_version("test") == before + 1
    source.value = "v2"
    assert cached("test", "k", source) == "v2"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_does_not_invalidate():
    before = namespace_version("test")

    with pytest.raises(RuntimeError), transaction.atomic():
        namespace_bump("test")
        raise RuntimeError("the write failed")

    assert namespace_version("test") == before


def lookups(result: str, namespace: str = "test") -> float:
    return REGISTRY.get_sample_value("stampede_cache_requests_total", {"namespace": namespace, "result": result}) or 0.0


def test_a_value_the_cache_must_not_keep_leaves_nobody_waiting_for_it():
    # A page that set a cookie, a 400 for junk in the query: the others compute their own at
    # once, rather than each waiting CACHE_WAIT_SECONDS for an entry that never comes.
    source = Source("for one visitor")
    not_kept = {"should_store": lambda value: False}
    cached("test", "own", source, **not_kept)
    before = lookups("not_shared"), lookups("waited")

    results = run_concurrently(20, lambda _: cached("test", "own", source, **not_kept))

    assert results == ["for one visitor"] * 20 and source.calls == 21
    assert (lookups("not_shared"), lookups("waited")) == (before[0] + 20, before[1])


def test_once_the_value_may_be_kept_again_it_is_shared_again(later):
    source = Source("for one visitor")
    cached("test", "k", source, timeout=60, should_store=lambda value: value != "for one visitor")
    later(61)  # the "not shared" mark lapses with the fresh time
    source.value = "for everyone"

    assert [cached("test", "k", source, timeout=60) for _ in range(3)] == ["for everyone"] * 3
    assert source.calls == 2


def test_the_next_value_that_may_be_kept_is_shared_at_once():
    # One caller's error page must not keep everyone else's from the cache until the mark lapses.
    source = Source("an error for one caller")
    shareable = {"should_store": lambda value: value == "the page"}
    cached("test", "k", source, **shareable)
    source.value = "the page"

    assert [cached("test", "k", source, **shareable) for _ in range(3)] == ["the page"] * 3
    assert source.calls == 2


def test_fifty_concurrent_requests_on_an_expired_hot_key_recompute_it_once(later):
    cached("test", "hot", Source("old"), timeout=60)
    later(61)  # now stale
    source = Source("new", delay=0.3)

    results = run_concurrently(50, lambda _: cached("test", "hot", source, timeout=60))

    assert source.calls == 1
    assert set(results) <= {"old", "new"} and results.count("new") >= 1
    assert cached("test", "hot", source) == "new"


def test_fifty_concurrent_requests_on_a_cold_key_wait_for_one_computation():
    source = Source("computed", delay=0.3)

    results = run_concurrently(50, lambda _: cached("test", "cold", source))

    assert source.calls == 1
    assert results == ["computed"] * 50


def test_a_stale_value_is_served_when_recomputing_fails(later):
    cached("test", "k", Source("last good"), timeout=60)
    later(61)

    def database_down():
        raise DatabaseError("connection refused")

    assert cached("test", "k", database_down) == "last good"


def test_with_nothing_cached_a_failure_reaches_the_caller():
    def database_down():
        raise DatabaseError("connection refused")

    with pytest.raises(DatabaseError):
        cached("test", "never-cached", database_down)


def test_with_redis_down_values_come_from_the_source_and_errors_are_counted(private_redis):
    source = Source("from the database")
    cached("test", "k", source)
    private_redis.stop()
    local_tier.clear()  # a few seconds later: this process's own copies have expired too
    recent_versions.clear()
    failed_before, skipped_before = errors("error"), errors("circuit_open")

    results = [cached("test", "k", source) for _ in range(10)]

    assert results == ["from the database"] * 10
    assert source.calls == 11
    assert errors("error") > failed_before
    # After a few failures the circuit opens: later calls do not even try the dead server.
    assert errors("circuit_open") > skipped_before


@pytest.mark.django_db
def test_with_a_cache_that_keeps_nothing_values_come_from_the_source_and_bumps_succeed(
    settings, django_capture_on_commit_callbacks
):
    # The 2023 configuration of `make loadtest` runs on Django's dummy cache.
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    recent_versions.clear()
    source = Source("from the database")

    assert [cached("test", "k", source) for _ in range(3)] == ["from the database"] * 3
    with django_capture_on_commit_callbacks(execute=True):
        namespace_bump("test")

    assert source.calls == 3
