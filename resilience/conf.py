"""One way to read a resilience setting: the project's value, or the default."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from resilience.defaults import DEFAULTS


def get_setting(name: str) -> Any:
    """Return ``settings.RESILIENCE_<name>`` if set, else the default from defaults.py."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown resilience setting {name!r}")
    return getattr(settings, f"RESILIENCE_{name}", DEFAULTS[name])
