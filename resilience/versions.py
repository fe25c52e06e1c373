"""Namespace versions: invalidate a whole family of cache keys with one increment.

Every key of a namespace embeds its current version; bumping the version makes all of
them unreachable at once, in every process, without finding or deleting any.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.db import transaction

from resilience.cachestore import CacheUnavailable, shared_call
from resilience.conf import get_setting

logger = logging.getLogger(__name__)


class _RecentVersions:
    """Versions this process read in the last moment, so a hot path need not ask Redis each time.

    An edit made in this process is seen at once (its bump updates this memo); one made
    elsewhere is seen within CACHE_VERSION_LOCAL_SECONDS, like nginx's 1 s microcache.
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


def _clock_version() -> int:
    # Start from the clock, not from 1: if the version key is ever evicted or Redis
    # restarts empty, the new version is still above every old one.
    return int(time.time() * 1000)


def namespace_version(namespace: str) -> int:
    """Return the namespace's current version (raises CacheUnavailable)."""
    version = recent_versions.get(namespace)
    if version is not None:
        return version
    key = f"ns:{namespace}"
    version = shared_call("get", key)
    if version is None:
        shared_call("add", key, _clock_version(), timeout=None)
        version = shared_call("get", key)
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
            version = shared_call("incr", key)
        except CacheUnavailable as error:
            if not isinstance(error.__cause__, ValueError):
                raise
            shared_call("add", key, _clock_version(), timeout=None)  # the key was gone
            version = shared_call("get", key)
            if version is None:
                return  # a cache that keeps nothing (Django's dummy cache) holds nothing to invalidate
        recent_versions.put(namespace, int(version))
    except CacheUnavailable:
        # Entries of the old version expire with their timeout; nothing else can be done.
        logger.error("Could not invalidate cache namespace %s", namespace)


def make_key(namespace: str, version: int, key: str) -> str:
    # Hashed: keys may hold user input (search words) of any length or character.
    return f"{namespace}:v{version}:{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()}"
