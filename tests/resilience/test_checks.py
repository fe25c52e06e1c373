"""System checks: each misconfiguration fails `manage.py check` with its own id, before any spike."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.urls import path

from resilience import checks
from resilience.pagecache import cache_public_page


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_the_projects_settings_pass_every_check():
    assert [error for error in run_checks(include_deployment_checks=True) if error.id.startswith("resilience.")] == []


@cache_public_page("test", query=("q", "utm_source"))
def keyed_by_a_campaign_tag(request):  # pragma: no cover - only its declaration is checked
    raise AssertionError


urlpatterns = [path("tagged/", keyed_by_a_campaign_tag)]


def test_a_cached_page_keyed_by_a_tracking_parameter_fails_the_system_checks(settings):
    settings.ROOT_URLCONF = __name__

    errors = [error for error in run_checks() if error.id == "resilience.E001"]

    assert len(errors) == 1 and "utm_source" in errors[0].msg


@pytest.mark.parametrize("name", ["CACHE_ALIAS", "WAITINGROOM_CACHE_ALIAS"])
def test_a_cache_alias_missing_from_caches_fails(settings, name):
    setattr(settings, f"RESILIENCE_{name}", "nowhere")

    errors = checks.cache_aliases_exist()

    assert ids(errors) == ["resilience.E002"] and "nowhere" in errors[0].msg


def test_a_deployed_room_without_a_shared_redis_fails_the_deploy_checks(settings):
    settings.CACHES = {**settings.CACHES, "waitingroom": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert ids(checks.waitingroom_state_is_shared()) == ["resilience.E003"]
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != checks.WAITINGROOM_MIDDLEWARE]
    assert checks.waitingroom_state_is_shared() == []  # no room, nothing to share


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHED_AFTER_SECONDS", -1),
        ("CACHE_TIMEOUT", "60"),
        ("REDIS_BREAKER_FAILURES", 0),
        ("WAITINGROOM_ADAPTIVE_DECREASE", 1.5),
        ("WAITINGROOM_REFRESH_SECONDS", (15, 10)),
        ("WAITINGROOM_REFRESH_SHARE", 2),
        ("SHED_PROTECTED_AFTER_SECONDS", 1.0),
        ("METRICS_ALLOWED_NETWORKS", ["10.0.0.0/33"]),
    ],
)
def test_a_bad_tunable_fails(settings, name, value):
    setattr(settings, f"RESILIENCE_{name}", value)

    errors = checks.tunables_are_sound()

    assert ids(errors) == ["resilience.E004"] and name in errors[0].msg


@pytest.mark.parametrize("name", ["WAITINGROOM_ADMIT_IF", "HEALTH_CHECKS"])
def test_a_dotted_path_that_does_not_import_fails(settings, name):
    missing = "resilience.nowhere.Check"
    setattr(settings, f"RESILIENCE_{name}", [(missing, True)] if name == "HEALTH_CHECKS" else missing)

    assert ids(checks.dotted_paths_import()) == ["resilience.E005"]


def test_a_misspelt_setting_is_a_warning(settings):
    settings.RESILIENCE_SHED_AFTER_SECOND = 5

    warnings = checks.settings_are_known()

    assert ids(warnings) == ["resilience.W001"] and "RESILIENCE_SHED_AFTER_SECOND" in warnings[0].msg
