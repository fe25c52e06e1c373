"""Hypothesis profiles for the property tests: few examples by default, a deeper run on request.

`HYPOTHESIS_PROFILE=thorough` explores much further (minutes, not seconds). CI runs the
default examples derandomized, so a red CI is a bug anyone can reproduce, not a roll of dice.
"""

from __future__ import annotations

import os

from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

# Every example is a few real requests against PostgreSQL and Redis: a deadline would
# measure the machine's load, not the code. Fixtures are built once per test on purpose;
# each example rolls its own writes back (expect.example_rolled_back).
_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=DirectoryBasedExampleDatabase(django_settings.BASE_DIR / "var" / "hypothesis"),
)
settings.register_profile("stampede", max_examples=40, **_COMMON)
settings.register_profile("ci", max_examples=40, derandomize=True, **{**_COMMON, "database": None})
settings.register_profile("thorough", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "stampede"))
