"""Defaults for every resilience tunable; override any of them in Django's settings.

Read them through ``resilience.conf.get_setting``, never from settings directly.
"""
from __future__ import annotations

DEFAULTS: dict[str, object] = {}
