"""Cache-aside with versioned namespaces and stampede protection.

    products = cached("catalog", "categories", compute=lambda: list(Category.objects.all()))
    namespace_bump("catalog")   # after a write: every key of the namespace is new

Entries carry a "fresh until" time and outlive it by ``stale_for`` seconds. When an entry
goes stale, one caller (holding a short lock) recomputes it while the others keep getting
the stale value; when there is no entry at all, the others wait briefly for the one
computing it. If computing fails (the database is down), a stale value is served.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.db import transaction

from resilience.conf import get_setting
from resilience.instruments import CACHE_ERRORS, CACHE_REQUESTS

logger = logging.getLogger(__name__)
T = TypeVar("T")
_NOT_FOUND = "resilience:not-found"  # a stored marker, so "no such thing" is cached too


class CacheUnavailable(Exception):
    """The cache did not answer; callers fall back to the source of truth."""


def _cache():
    return caches[get_setting("CACHE_ALIAS")]


def _call(operation: str, *args, **kwargs):
    try:
        return getattr(_cache(), operation)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - any backend's failure means the same here
        CACHE_ERRORS.labels(reason="error").inc()
        raise CacheUnavailable(operation) from error


class _RecentVersions:
    """Versions this process read in the last moments, so a hot path need not ask Redis each time.

    An edit made in this process is seen at once (its bump updates this memo); an edit
    made elsewhere is seen within CACHE_VERSION_LOCAL_SECONDS, like nginx's 1 s microcache.
    """

    def __init__(self) -> None:
        self._versions: dict[str, tuple[int, float]] = {}

    def get(self, namespace: str) -> int | None:
        found = self._versions.get(namespace)
        return found[0] if found and found[1] > time.monotonic() else None

    def put(self, namespace: str, version: int) -> None:
        self._versions[namespace] = (version, time.monotonic() + get_setting("CACHE_VERSION_LOCAL_SECONDS"))

    def clear(self) -> None:
        self._versions.clear()


recent_versions = _RecentVersions()


def namespace_version(namespace: str) -> int:
    """Return the namespace's current version (raises CacheUnavailable)."""
    version = recent_versions.get(namespace)
    if version is not None:
        return version
    key = f"ns:{namespace}"
    version = _call("get", key)
    if version is None:
        # Start from the clock, not from 1: if the version key is ever evicted, the new
        # version is still above every old one, so no old entry can come back.
        _call("add", key, int(time.time() * 1000), timeout=None)
        version = _call("get", key)
        if version is None:
            raise CacheUnavailable("the cache keeps nothing")
    recent_versions.put(namespace, int(version))
    return int(version)


def namespace_bump(namespace: str) -> None:
    """Invalidate every key of a namespace once the current transaction commits (never on rollback)."""
    transaction.on_commit(lambda: _bump_now(namespace))


def _bump_now(namespace: str) -> None:
    key = f"ns:{namespace}"
    try:
        try:
            version = _call("incr", key)
        except CacheUnavailable as error:
            if not isinstance(error.__cause__, ValueError):
                raise
            # The key is gone (evicted, or Redis restarted empty): start above every old version.
            _call("add", key, int(time.time() * 1000), timeout=None)
            version = _call("get", key)
        recent_versions.put(namespace, int(version))
    except CacheUnavailable:
        # Entries of the old version expire with their timeout; nothing else can be done.
        logger.error("Could not invalidate cache namespace %s", namespace)


def make_key(namespace: str, version: int, key: str) -> str:
    # Hashed: keys may hold user input (search words) of any length or character.
    return f"{namespace}:v{version}:{hashlib.sha1(key.encode()).hexdigest()}"


def cached(
    namespace: str,
    key: str,
    compute: Callable[[], T],
    *,
    timeout: float | None = None,
    stale_for: float | None = None,
    should_store: Callable[[T], bool] | None = None,
) -> T:
    """Return the cached value for ``key`` in ``namespace``, computing it at most once at a time."""
    try:
        full_key = make_key(namespace, namespace_version(namespace), key)
    except CacheUnavailable:
        CACHE_REQUESTS.labels(namespace=namespace, result="bypass").inc()
        return compute()
    return cached_at(namespace, full_key, compute, timeout=timeout, stale_for=stale_for, should_store=should_store)


def cached_at(
    namespace: str,
    full_key: str,
    compute: Callable[[], T],
    *,
    timeout: float | None = None,
    stale_for: float | None = None,
    should_store: Callable[[T], bool] | None = None,
) -> T:
    """``cached`` for a key already made with ``make_key`` (callers that hold the version)."""
    timeout = get_setting("CACHE_TIMEOUT") if timeout is None else timeout
    stale_for = get_setting("CACHE_STALE_FOR") if stale_for is None else stale_for
    try:
        entry = _call("get", full_key)
    except CacheUnavailable:
        CACHE_REQUESTS.labels(namespace=namespace, result="bypass").inc()
        return compute()
    if entry is not None and entry[1] > time.time():
        CACHE_REQUESTS.labels(namespace=namespace, result="hit").inc()
        return _unwrap(entry[0])
    return _refresh(namespace, full_key, entry, compute, timeout, stale_for, should_store)


def _refresh(namespace, full_key, entry, compute, timeout, stale_for, should_store):
    lock_key = f"lock:{full_key}"
    try:
        have_lock = _call("add", lock_key, 1, timeout=get_setting("CACHE_LOCK_SECONDS"))
    except CacheUnavailable:
        have_lock = True  # no cache to coordinate through: compute, as if uncached
    if not have_lock:
        if entry is not None:
            CACHE_REQUESTS.labels(namespace=namespace, result="stale").inc()
            return _unwrap(entry[0])
        waited = _wait_for(full_key)
        if waited is not None:
            CACHE_REQUESTS.labels(namespace=namespace, result="waited").inc()
            return _unwrap(waited[0])
    if have_lock:
        # Another caller may have stored a fresh value between our read and our lock.
        current = _get_quietly(full_key)
        if current is not None and current[1] > time.time():
            _quietly("delete", lock_key)
            CACHE_REQUESTS.labels(namespace=namespace, result="hit").inc()
            return _unwrap(current[0])
    CACHE_REQUESTS.labels(namespace=namespace, result="miss").inc()
    try:
        value = compute()
    except Exception:
        if entry is None:
            raise
        logger.warning("Serving a stale %s entry: recomputing it failed", namespace, exc_info=True)
        CACHE_REQUESTS.labels(namespace=namespace, result="stale_on_error").inc()
        return _unwrap(entry[0])
    finally:
        if have_lock:
            _quietly("delete", lock_key)
    if should_store is None or should_store(value):
        stored = _NOT_FOUND if value is None else value
        _quietly("set", full_key, (stored, time.time() + timeout), timeout=timeout + stale_for)
    return value


def _wait_for(full_key: str):
    deadline = time.monotonic() + get_setting("CACHE_WAIT_SECONDS")
    while time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            entry = _call("get", full_key)
        except CacheUnavailable:
            return None
        if entry is not None:
            return entry
    return None


def _get_quietly(key: str):
    try:
        return _call("get", key)
    except CacheUnavailable:
        return None


def _quietly(operation: str, *args, **kwargs) -> None:
    try:
        _call(operation, *args, **kwargs)
    except CacheUnavailable:
        pass


def _unwrap(value):
    return None if isinstance(value, str) and value == _NOT_FOUND else value
