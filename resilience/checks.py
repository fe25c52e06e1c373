"""System checks: a misconfiguration fails `manage.py check` (and every start), not a spike."""
from __future__ import annotations

from django.core.checks import Error, register

from resilience.edgekeys import cached_routes, tracking_parameters


@register()
def page_cache_keys_hold_no_tracking_parameter(app_configs=None, **kwargs) -> list[Error]:
    """A page keyed by a tracking parameter would be rendered and stored again for every campaign click."""
    tracking = set(tracking_parameters())
    return [
        Error(
            f"The cached page at {regex!r} is keyed by the tracking parameter {name!r}.",
            hint="Leave it out of cache_public_page(query=...): tracking tags must not change a page.",
            id="resilience.E001",
        )
        for regex, query in cached_routes()
        for name in query
        if name in tracking or name.startswith("utm_")
    ]
