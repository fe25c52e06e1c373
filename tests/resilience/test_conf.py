"""Settings: read once, the project's value over the default, a change by a test seen at once."""

from __future__ import annotations

import pytest
from django.test import override_settings

from resilience import conf
from resilience.defaults import DEFAULTS


def test_the_default_applies_unless_the_project_sets_it():
    assert conf.get_setting("CACHE_TIMEOUT") == DEFAULTS["CACHE_TIMEOUT"]
    assert conf.get_setting("WAITINGROOM_CACHE_ALIAS") == "waitingroom"  # config/settings/base.py


def test_a_setting_is_read_once_then_kept(monkeypatch):
    conf.get_setting("CACHE_TIMEOUT")
    monkeypatch.setattr(conf, "settings", None)  # Django's settings are not asked again

    assert conf.get_setting("CACHE_TIMEOUT") == DEFAULTS["CACHE_TIMEOUT"]


def test_a_changed_setting_is_seen_at_once_and_the_old_one_after():
    with override_settings(RESILIENCE_CACHE_TIMEOUT=5):
        assert conf.get_setting("CACHE_TIMEOUT") == 5
    assert conf.get_setting("CACHE_TIMEOUT") == DEFAULTS["CACHE_TIMEOUT"]


def test_an_unknown_name_is_a_bug():
    with pytest.raises(KeyError, match="NO_SUCH"):
        conf.get_setting("NO_SUCH")
