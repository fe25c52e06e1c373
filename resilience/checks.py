"""System checks: a misconfiguration fails `manage.py check` (and `migrate`, run before replicas start), not a spike.

Like django/contrib/admin/checks.py: each function checks one thing and returns its errors.
"""

from __future__ import annotations

import ipaddress
from numbers import Real

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.utils.module_loading import import_string

from resilience.conf import PREFIX, get_setting
from resilience.defaults import DEFAULTS
from resilience.edgekeys import cached_routes, tracking_parameters

WAITINGROOM_MIDDLEWARE = "resilience.waitingroom.middleware.WaitingRoomMiddleware"


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


@register(Tags.caches)
def cache_aliases_exist(app_configs=None, **kwargs) -> list[Error]:
    """The caches the helpers and the waiting room read through must be configured."""
    return [
        Error(
            f"{PREFIX}{name} is {get_setting(name)!r}, which is not a cache in CACHES.",
            hint=f"Name one of: {', '.join(settings.CACHES)}.",
            id="resilience.E002",
        )
        for name in ("CACHE_ALIAS", "WAITINGROOM_CACHE_ALIAS")
        if get_setting(name) not in settings.CACHES
    ]


@register(Tags.caches, deploy=True)
def waitingroom_state_is_shared(app_configs=None, **kwargs) -> list[Error]:
    """A deployed waiting room keeps its state in a Redis every replica shares, not in each process."""
    alias = get_setting("WAITINGROOM_CACHE_ALIAS")
    if WAITINGROOM_MIDDLEWARE not in settings.MIDDLEWARE or alias not in settings.CACHES:
        return []
    if settings.CACHES[alias]["BACKEND"].startswith("django_redis"):
        return []
    return [
        Error(
            f"The waiting room's cache {alias!r} is not a django-redis cache: each process would keep a room of its own.",
            hint="Set WAITINGROOM_REDIS_URL (or REDIS_URL) to a Redis with maxmemory-policy noeviction.",
            id="resilience.E003",
        )
    ]


def _bad(name: str, why: str) -> Error:
    message = f"{PREFIX}{name} = {get_setting(name)!r}: {why}."
    return Error(message, hint="See resilience/defaults.py.", id="resilience.E004")


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _number(name: str) -> float | None:
    value = get_setting(name)
    return value if _is_number(value) else None


@register()
def tunables_are_sound(app_configs=None, **kwargs) -> list[Error]:
    """Numbers a spike would otherwise find wrong: negative times, a pace that never falls, an empty range."""
    numeric = [name for name, default in DEFAULTS.items() if _is_number(default)]
    errors = [
        _bad(name, "must be a number, 0 or more") for name in numeric if _number(name) is None or _number(name) < 0
    ]
    for name in (
        "REDIS_BREAKER_FAILURES",
        "WAITINGROOM_TICKETS_PER_ADDRESS",
        "WAITINGROOM_ADAPTIVE_MIN_SAMPLES",
        "WAITINGROOM_ADAPTIVE_MAX_PER_MINUTE",
    ):
        if _number(name) is not None and 0 <= _number(name) < 1:
            errors.append(_bad(name, "must be 1 or more"))
    if _number("WAITINGROOM_ADAPTIVE_DECREASE") is not None and not 0 < _number("WAITINGROOM_ADAPTIVE_DECREASE") < 1:
        errors.append(_bad("WAITINGROOM_ADAPTIVE_DECREASE", "must be between 0 and 1, or the pace never falls"))
    share = _number("WAITINGROOM_REFRESH_SHARE")
    if share is not None and not 0 < share <= 1:
        errors.append(_bad("WAITINGROOM_REFRESH_SHARE", "must be over 0 and at most 1: a share of the wait left"))
    refresh = get_setting("WAITINGROOM_REFRESH_SECONDS")
    if not (
        isinstance(refresh, (tuple, list))
        and len(refresh) == 2
        and all(_is_number(n) for n in refresh)
        and 0 < refresh[0] <= refresh[1]
    ):
        errors.append(_bad("WAITINGROOM_REFRESH_SECONDS", "must be (shortest, longest) with 0 < shortest <= longest"))
    shed, protected = _number("SHED_AFTER_SECONDS"), _number("SHED_PROTECTED_AFTER_SECONDS")
    if shed is not None and protected is not None and protected < shed:
        errors.append(_bad("SHED_PROTECTED_AFTER_SECONDS", "must be SHED_AFTER_SECONDS or more: checkout is shed last"))
    for network in get_setting("METRICS_ALLOWED_NETWORKS"):
        try:
            ipaddress.ip_network(network)
        except ValueError:
            errors.append(_bad("METRICS_ALLOWED_NETWORKS", f"{network!r} is not a network"))
    return errors


@register()
def dotted_paths_import(app_configs=None, **kwargs) -> list[Error]:
    """The health checks and the room's ADMIT_IF are imported at the first request: fail at start instead."""
    paths = [("HEALTH_CHECKS", path) for path, _critical in get_setting("HEALTH_CHECKS")]
    if get_setting("WAITINGROOM_ADMIT_IF"):
        paths.append(("WAITINGROOM_ADMIT_IF", get_setting("WAITINGROOM_ADMIT_IF")))
    errors = []
    for name, path in paths:
        try:
            import_string(path)
        except ImportError as error:
            errors.append(Error(f"{PREFIX}{name}: {path!r} cannot be imported ({error}).", id="resilience.E005"))
    return errors


@register()
def settings_are_known(app_configs=None, **kwargs) -> list[CheckWarning]:
    """A misspelt RESILIENCE_ setting would be ignored silently: the default would apply."""
    return [
        CheckWarning(
            f"{name} is not a resilience setting: it has no effect.",
            hint="See resilience/defaults.py.",
            id="resilience.W001",
        )
        for name in dir(settings)
        if name.startswith(PREFIX) and name[len(PREFIX) :] not in DEFAULTS
    ]
