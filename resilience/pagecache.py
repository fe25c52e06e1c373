"""Whole-page caching for pages that are the same for every visitor.

Two tiers: each process keeps the pages it served last in memory, checked against the
namespace version in the shared cache (one tiny read per request), and the shared cache
holds them for every replica, with stampede protection (see caching.py). A response
that sets a cookie or varies on one is never stored: it belongs to one visitor.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header

from resilience.caching import CacheUnavailable, cached_at, make_key, namespace_version
from resilience.conf import get_setting
from resilience.instruments import CACHE_REQUESTS

CACHEABLE_STATUSES = {200, 404}


@dataclass(frozen=True)
class CachedPage:
    status: int
    content: bytes
    headers: tuple[tuple[str, str], ...]
    cacheable: bool

    @classmethod
    def from_response(cls, response: HttpResponse) -> CachedPage:
        cacheable = (
            response.status_code in CACHEABLE_STATUSES
            and not response.streaming
            and not response.cookies
            and not has_vary_header(response, "Cookie")
        )
        return cls(response.status_code, response.content, tuple(response.items()), cacheable)

    def to_response(self) -> HttpResponse:
        # A new response each time: middleware adds per-visitor headers to it.
        response = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            response[name] = value
        return response


class LocalPages:
    """The in-process tier: a small, thread-safe LRU with an expiry per entry."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[CachedPage, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedPage | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[1] < time.monotonic():
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: str, page: CachedPage, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (page, time.monotonic() + ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > get_setting("PAGE_CACHE_LOCAL_ENTRIES"):
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


local_pages = LocalPages()


def cache_public_page(namespace: str, *, timeout: float | None = None) -> Callable:
    """Cache a view's whole GET response for everyone, until ``namespace`` is bumped or ``timeout`` passes."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            try:
                full_key = make_key(namespace, namespace_version(namespace), f"page:{request.get_full_path()}")
            except CacheUnavailable:
                CACHE_REQUESTS.labels(namespace=namespace, result="bypass").inc()
                return view(request, *args, **kwargs)
            page = local_pages.get(full_key)
            if page is not None:
                CACHE_REQUESTS.labels(namespace=namespace, result="local_hit").inc()
                return page.to_response()
            page = cached_at(
                namespace,
                full_key,
                lambda: CachedPage.from_response(view(request, *args, **kwargs)),
                timeout=get_setting("PAGE_CACHE_TIMEOUT") if timeout is None else timeout,
                should_store=lambda rendered: rendered.cacheable,
            )
            if page.cacheable:
                local_pages.put(full_key, page, get_setting("PAGE_CACHE_LOCAL_SECONDS"))
            return page.to_response()

        return wrapper

    return decorator
