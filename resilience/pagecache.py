"""Whole-page caching for pages that are the same for every visitor.

Pages go through caching.py like any value: this process's memory first (checked against
the namespace version), then the shared cache for every replica, with stampede
protection. A response that sets a cookie or varies on one is never stored: it belongs
to one visitor.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header

from resilience.caching import cached_at
from resilience.cachestore import CacheUnavailable
from resilience.conf import get_setting
from resilience.instruments import CACHE_REQUESTS
from resilience.versions import make_key, namespace_version

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
            page = cached_at(
                namespace,
                full_key,
                lambda: CachedPage.from_response(view(request, *args, **kwargs)),
                timeout=get_setting("PAGE_CACHE_TIMEOUT") if timeout is None else timeout,
                should_store=lambda rendered: rendered.cacheable,
            )
            return page.to_response()

        return wrapper

    return decorator
