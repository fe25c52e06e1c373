"""System checks of the order pipeline: a lease that could end under a running task fails at start."""

from __future__ import annotations

from shop.checks import order_lease_outlasts_its_task


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_the_default_settings_pass():
    assert order_lease_outlasts_its_task() == []


def test_a_lease_no_longer_than_the_task_time_limit_fails(settings):
    settings.SHOP_ORDER_LEASE_MARGIN_SECONDS = 0

    assert ids(order_lease_outlasts_its_task()) == ["shop.E001"]


def test_a_visibility_timeout_within_the_lease_fails(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "visibility_timeout": 60}

    assert ids(order_lease_outlasts_its_task()) == ["shop.E002"]
