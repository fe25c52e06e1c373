"""Namespace versions: one increment makes every key of a namespace new, in every process."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from resilience.versions import _bump_now, make_key, namespace_bump, namespace_version, recent_versions


def test_a_new_namespace_starts_from_the_clock_so_a_lost_version_never_goes_back():
    before = int(time.time() * 1000)

    version = namespace_version("fresh")

    assert before <= version <= int(time.time() * 1000)


def test_a_version_is_trusted_for_a_moment_then_read_again(settings):
    settings.RESILIENCE_CACHE_VERSION_LOCAL_SECONDS = 60
    version = namespace_version("catalog")
    cache.incr("ns:catalog")  # another process bumped it

    assert namespace_version("catalog") == version  # within the moment: this process's memo
    recent_versions.clear()  # the moment has passed
    assert namespace_version("catalog") == version + 1


def test_a_bump_in_this_process_shows_at_once(settings):
    settings.RESILIENCE_CACHE_VERSION_LOCAL_SECONDS = 60
    version = namespace_version("catalog")

    _bump_now("catalog")

    assert namespace_version("catalog") == version + 1


def test_a_bump_survives_an_evicted_version_key():
    old = namespace_version("catalog")
    cache.delete("ns:catalog")
    recent_versions.clear()

    _bump_now("catalog")

    assert namespace_version("catalog") >= old


@pytest.mark.django_db
def test_a_bump_waits_for_the_commit(django_capture_on_commit_callbacks):
    version = namespace_version("catalog")

    with django_capture_on_commit_callbacks() as callbacks:
        namespace_bump("catalog")
        assert namespace_version("catalog") == version
    for callback in callbacks:
        callback()

    assert namespace_version("catalog") == version + 1


def test_keys_are_hashed_so_any_input_makes_a_short_safe_key():
    key = make_key("search", 7, "ü " * 500)

    assert key.startswith("search:v7:") and len(key) == len("search:v7:") + 40
    assert make_key("search", 8, "ü " * 500) != key
