"""Cache-aside with versioned keys, two tiers and stampede protection.

    categories = cached("catalog", "categories", lambda: list(Category.objects.all()))
    namespace_bump("catalog")  # after a write: every key of the namespace is new (versions.py)

A value is looked for in this process's memory, then in the shared cache, then computed.
Entries carry a "fresh until" time and outlive it by ``stale_for`` seconds. When an
entry goes stale, one caller (holding a short lock) recomputes it while the others keep
getting the stale value; when there is none at all, the others wait briefly for the one
computing it. If computing fails (the database is down), a stale value is served.

Why not django-cachalot, which caches every ORM query transparently: it invalidates per
table on any write, and a checkout writes the product table (stock) with every order, so
during a sales spike it would throw the catalog cache away many times a second, exactly
when it is needed most. It also has no stampede protection and no stale-on-error. Here
the shop decides what is cached and which writes invalidate it (catalog edits do; stock
reservations do not, except when a product sells out).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from resilience.cachestore import CacheUnavailable, local_tier, shared_call
from resilience.conf import get_setting
from resilience.instruments import CACHE_REQUESTS
from resilience.versions import make_key, namespace_bump, namespace_version

__all__ = ["CacheUnavailable", "cached", "cached_at", "namespace_bump", "namespace_version"]
logger = logging.getLogger(__name__)
T = TypeVar("T")
_NOT_FOUND = "resilience:not-found"  # a stored marker, so "no such thing" is cached too
# A stored marker: the last value computed was not to be shared (should_store said no, e.g. a
# page that set a cookie, or a 400 for junk in the query), so each caller computes its own.
_NOT_SHARED = "resilience:not-shared"


def cached(namespace: str, key: str, compute: Callable[[], T], **options) -> T:
    """Return the cached value for ``key`` in ``namespace``, computing it at most once at a time."""
    try:
        full_key = make_key(namespace, namespace_version(namespace), key)
    except CacheUnavailable:
        CACHE_REQUESTS.labels(namespace=namespace, result="bypass").inc()
        return compute()
    return cached_at(namespace, full_key, compute, **options)


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
    local = local_tier.get(full_key)
    if local is not None:
        CACHE_REQUESTS.labels(namespace=namespace, result="local_hit").inc()
        return _unwrap(local)
    timeout = get_setting("CACHE_TIMEOUT") if timeout is None else timeout
    stale_for = get_setting("CACHE_STALE_FOR") if stale_for is None else stale_for
    try:
        entry = shared_call("get", full_key)
    except CacheUnavailable:
        CACHE_REQUESTS.labels(namespace=namespace, result="bypass").inc()
        return compute()
    if entry is not None and entry[1] > time.time():
        if _not_shared(entry):
            # The last value was for one caller: compute our own, and share it if it may be
            # (one 500 must not keep a page out of the cache until the mark lapses).
            CACHE_REQUESTS.labels(namespace=namespace, result="not_shared").inc()
            value = compute()
            _share(full_key, value, timeout, stale_for, should_store)
            return value
        CACHE_REQUESTS.labels(namespace=namespace, result="hit").inc()
        _keep_locally(full_key, entry)
        return _unwrap(entry[0])
    return _refresh(namespace, full_key, entry, compute, timeout, stale_for, should_store)


def _refresh(namespace, full_key, entry, compute, timeout, stale_for, should_store):
    if entry is not None and _not_shared(entry):
        entry = None  # a lapsed "not shared" marker: no value to serve meanwhile
    lock_key = f"lock:{full_key}"
    # The lock is left to expire after a successful refresh, and never outlives the fresh
    # period: a caller that read the old entry just before the refresh cannot take the
    # lock and compute it all over again.
    lock_seconds = min(get_setting("CACHE_LOCK_SECONDS"), timeout)
    try:
        have_lock = shared_call("add", lock_key, 1, timeout=lock_seconds)
    except CacheUnavailable:
        have_lock = True  # no cache to coordinate through: compute, as if uncached
    if not have_lock:
        if entry is not None:
            CACHE_REQUESTS.labels(namespace=namespace, result="stale").inc()
            return _unwrap(entry[0])
        waited = _wait_for(full_key)
        if waited is not None and not _not_shared(waited):
            CACHE_REQUESTS.labels(namespace=namespace, result="waited").inc()
            return _unwrap(waited[0])
    CACHE_REQUESTS.labels(namespace=namespace, result="miss").inc()
    try:
        value = compute()
    except Exception:
        _quietly("delete", lock_key)  # let the next caller try at once
        if entry is None:
            raise
        logger.warning("Serving a stale %s entry: recomputing it failed", namespace, exc_info=True)
        CACHE_REQUESTS.labels(namespace=namespace, result="stale_on_error").inc()
        return _unwrap(entry[0])
    if not _share(full_key, value, timeout, stale_for, should_store):
        # Nothing for the others to wait for: without the mark (and the lock gone), each
        # caller for this key for the lock's 10 s waited CACHE_WAIT_SECONDS, then computed.
        _quietly("set", full_key, (_NOT_SHARED, time.time() + timeout), timeout=timeout)
        _quietly("delete", lock_key)
    return value


def _share(full_key: str, value, timeout: float, stale_for: float, should_store) -> bool:
    """Store ``value`` for every caller, unless ``should_store`` says it is not to be shared; return whether stored."""
    if should_store is not None and not should_store(value):
        return False
    fresh = (_NOT_FOUND if value is None else value, time.time() + timeout)
    _quietly("set", full_key, fresh, timeout=timeout + stale_for)
    _keep_locally(full_key, fresh)
    return True


def _keep_locally(full_key: str, entry: tuple) -> None:
    ttl = min(get_setting("CACHE_LOCAL_SECONDS"), entry[1] - time.time())
    local_tier.put(full_key, entry[0], ttl)


def _wait_for(full_key: str):
    deadline = time.monotonic() + get_setting("CACHE_WAIT_SECONDS")
    while time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            entry = shared_call("get", full_key)
        except CacheUnavailable:
            return None
        if entry is not None:
            return entry
    return None


def _quietly(operation: str, *args, **kwargs) -> None:
    try:
        shared_call(operation, *args, **kwargs)
    except CacheUnavailable:
        pass


def _not_shared(entry: tuple) -> bool:
    return isinstance(entry[0], str) and entry[0] == _NOT_SHARED


def _unwrap(value):
    return None if isinstance(value, str) and value == _NOT_FOUND else value
