"""nginx's microcache key map, rendered from the same declarations as the app's page cache.

Every view wrapped by ``cache_public_page(query=...)`` says which query parameters it
reads. nginx keys a cached page by its path and those parameters only (``$arg_<name>``,
each the first value, as the view sees it), so a campaign's tags and junk parameters can
neither miss the microcache nor add an entry to it. Paths no cached view serves keep the
whole query string in their key, as before.

    python manage.py nginx_page_cache_keys > deploy/nginx/page-cache-keys.conf
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from resilience.conf import get_setting

HEADER = """\
# Rendered by `python manage.py nginx_page_cache_keys` from the views' cache_public_page(query=...)
# declarations (resilience/edgekeys.py); a test fails when this file and the views disagree.
# The microcache keys a page by its path and these parameters only: tracking parameters and
# anything else never reach a key. Tracking parameters, which no page may be keyed by:
"""


def cached_routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each page-cached route as a regular expression over the path, with the parameters its view reads."""
    for pattern in (resolver or get_resolver()).url_patterns:
        regex = prefix + pattern.pattern.regex.pattern.lstrip("^")
        if isinstance(pattern, URLResolver):
            yield from cached_routes(pattern, regex)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "page_cache_query"):
            yield regex, pattern.callback.page_cache_query


def _nginx_regex(django_regex: str) -> str:
    # Django's \\Z is PCRE's $ for nginx's decoded $uri; named groups would become nginx variables.
    return "~^/" + re.sub(r"\(\?P<\w+>", "(?:", django_regex).removesuffix(r"\Z") + "$"


def tracking_parameters() -> list[str]:
    """The tracking parameters no page's key may hold: the defaults and the project's own."""
    return [*get_setting("PAGE_CACHE_TRACKING_PARAMETERS"), *get_setting("PAGE_CACHE_EXTRA_TRACKING_PARAMETERS")]


def nginx_page_cache_keys() -> str:
    """The nginx ``map`` from a request's path to the query part of its microcache key."""
    tracking = textwrap.wrap(
        ", ".join(tracking_parameters()), width=96, initial_indent="#   ", subsequent_indent="#   "
    )
    lines = [HEADER.rstrip("\n"), *tracking, "", "map $uri $stampede_page_query {", "    default $args;"]
    for regex, query in cached_routes():
        value = "&".join(f"{name}=$arg_{name}" for name in query)
        lines.append(f'    "{_nginx_regex(regex)}" "{value}";')
    return "\n".join(lines + ["}"]) + "\n"
