"""Load shedding: a request that already waited too long in front of the app gets a 503 at once."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from resilience.middleware.shedding import queued_seconds

pytestmark = pytest.mark.django_db
CATALOG = reverse("shop:product_list")


def stamped(seconds_ago: float) -> dict[str, str]:
    """The header nginx adds: when it received the request."""
    return {"HTTP_X_REQUEST_START": f"t={time.time() - seconds_ago:.3f}"}


def shed(priority: str) -> float:
    return REGISTRY.get_sample_value("stampede_requests_shed_total", {"priority": priority}) or 0


def test_a_request_that_waited_too_long_is_answered_503_at_once(client, django_assert_num_queries):
    before = shed("normal")

    with django_assert_num_queries(0):
        response = client.get(CATALOG, **stamped(5))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "very busy" in response.content.decode()
    assert shed("normal") - before == 1


@pytest.mark.parametrize(
    "headers",
    [lambda: stamped(0.1), lambda: {}, lambda: {"HTTP_X_REQUEST_START": "t=not-a-time"}],
    ids=["fresh", "not-stamped", "garbled"],
)
def test_fresh_unstamped_or_garbled_requests_are_served(client, headers):
    assert client.get(CATALOG, **headers()).status_code == 200


def test_a_customer_with_a_cart_checking_out_is_shed_last(client, product):
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": 1})

    assert client.get(reverse("shop:checkout"), **stamped(5)).status_code == 200
    assert client.get(CATALOG, **stamped(5)).status_code == 503
    assert client.get(reverse("shop:checkout"), **stamped(15)).status_code == 503


def test_a_checkout_without_a_session_is_not_protected(client):
    assert client.get(reverse("shop:checkout"), **stamped(5)).status_code == 503


def test_probes_are_never_shed(client):
    assert client.get("/healthz", **stamped(60)).status_code == 200
    assert client.get(CATALOG, **stamped(60)).status_code == 503  # the same wait sheds a page


def test_thresholds_are_settings(client, settings):
    settings.RESILIENCE_SHED_AFTER_SECONDS = 30
    settings.RESILIENCE_SHED_RETRY_AFTER_SECONDS = 7
    settings.MIDDLEWARE = list(settings.MIDDLEWARE)  # rebuild the middleware with the new setting

    assert client.get(CATALOG, **stamped(5)).status_code == 200
    shed_late = client.get(CATALOG, **stamped(35))
    assert (shed_late.status_code, shed_late["Retry-After"]) == (503, "7")  # the new limit, not no limit


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("t=1700000000.5", 500.0),
        ("1700000000.5", 500.0),
        ("t=1700000000500", 500.0),
        ("t=1700000000500000", 500.0),
        ("t=1800000000", None),
    ],
    ids=["seconds", "no-prefix", "milliseconds", "microseconds", "far-future"],
)
def test_the_stamp_is_read_in_the_formats_proxies_use(rf, header, expected):
    request = rf.get("/", HTTP_X_REQUEST_START=header)
    assert queued_seconds(request, now=1_700_000_500.5) == expected


def test_a_request_no_proxy_stamped_is_counted_so_shedding_is_never_silently_off(client):
    unstamped = lambda: REGISTRY.get_sample_value("stampede_requests_unstamped_total") or 0  # noqa: E731
    before = unstamped()

    client.get(CATALOG, **stamped(0.01))
    client.get(CATALOG)

    assert unstamped() == before + 1
