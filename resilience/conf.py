"""One way to read a resilience setting: the project's value, or the default, read once.

Values are read from Django's settings on first use and kept; a change made by a test
(``override_settings``, pytest-django's ``settings``) sends ``setting_changed``, which
forgets them, so the next read sees the new value.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from resilience.defaults import DEFAULTS

PREFIX = "RESILIENCE_"
_values: dict[str, Any] = {}


def get_setting(name: str) -> Any:
    """Return ``settings.RESILIENCE_<name>`` if set, else the default from defaults.py."""
    try:
        return _values[name]
    except KeyError:
        if name not in DEFAULTS:
            raise KeyError(f"Unknown resilience setting {name!r}") from None
    value = _values[name] = getattr(settings, f"{PREFIX}{name}", DEFAULTS[name])
    return value


@receiver(setting_changed)
def _forget_values(*, setting: str, **kwargs) -> None:
    if setting.startswith(PREFIX):
        _values.clear()
