"""Whole-page caching for pages that are the same for every visitor.

Pages go through caching.py like any value: this process's memory first (checked against
the namespace version), then the shared cache for every replica, with stampede
protection. A response that sets a cookie or varies on one is never stored: it belongs
to one visitor.

A page's key is its path plus only the query parameters its view reads, declared on the
decorator, first values in the declared order. A campaign's tags (utm_*, a click id per
visitor) and junk never reach the key, so an influencer's link is the plain page, served
from the same entry. The view sees the same parameters the key holds and no others, so
no request can store under one key a page rendered from another (``?q=a&q=b``).
nginx's microcache keys pages by the same declaration (edgekeys.py renders its map).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.cache import has_vary_header

from resilience.cachestore import CacheUnavailable
from resilience.caching import cached_at
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


def page_query(query: QueryDict, parameters: tuple[str, ...]) -> QueryDict:
    """Only ``parameters`` of ``query``, each its first value, in the declared order (what nginx's $arg_ reads)."""
    return QueryDict(urlencode([(name, query.getlist(name)[0]) for name in parameters if query.getlist(name)]))


def cache_public_page(namespace: str, *, query: tuple[str, ...] = (), timeout: float | None = None) -> Callable:
    """Cache a view's whole GET response for everyone, keyed by its path and the ``query`` parameters it reads."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            request.GET = page_query(request.GET, query)
            page_key = f"page:{request.path}?{request.GET.urlencode()}"
            try:
                full_key = make_key(namespace, namespace_version(namespace), page_key)
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

        wrapper.page_cache_query = query  # read by edgekeys.py, which renders nginx's cache key map
        return wrapper

    return decorator
