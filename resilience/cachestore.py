"""The two places cached values live: the shared cache (Redis) and this process's memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.cache import caches

from resilience.conf import get_setting
from resilience.instruments import cache_error_count


class CacheUnavailable(Exception):
    """The shared cache did not answer; callers fall back to the source of truth."""


def shared_call(operation: str, *args, **kwargs) -> Any:
    """Run one operation on the shared cache; any failure is counted (once) and raised as CacheUnavailable."""
    try:
        return getattr(caches[get_setting("CACHE_ALIAS")], operation)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - any backend's failure means the same here
        cache_error_count(error, reason="error")  # unless the Redis client counted it already
        raise CacheUnavailable(operation) from error


class LocalTier:
    """A small, thread-safe LRU in this process's memory, each entry with its own expiry.

    Keys carry their namespace version, so an edit makes them unreachable at once; the
    expiry only bounds how long a value refreshed elsewhere stays old here. Values are
    shared by concurrent requests: treat them as read-only.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[1] < time.monotonic():
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: str, value: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (value, time.monotonic() + ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > get_setting("CACHE_LOCAL_ENTRIES"):
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


local_tier = LocalTier()
