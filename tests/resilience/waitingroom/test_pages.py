"""The queue page and its JSON twin: the place in line, an honest estimate, a polite refresh."""

from __future__ import annotations

import re

import pytest

from resilience.conf import get_setting
from resilience.testing import room_fill
from resilience.waitingroom import cookies
from resilience.waitingroom.pages import closed_response, flood_response, refresh_after
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, room, visitor

pytestmark = pytest.mark.django_db


@room("on", total_active_users=1)
def test_with_the_room_on_a_new_visitor_sees_their_place_wait_and_a_polite_refresh(product):
    room_fill(1)

    response = visitor("203.0.113.5").get(CATALOG)

    assert is_queued(response)
    refresh = int(re.search(rb'http-equiv="refresh" content="(\d+)"', response.content).group(1))
    assert 4 <= refresh <= 7 and response["Retry-After"] == str(refresh)
    assert b"Estimated wait" in response.content and b"<progress" in response.content
    assert "no-store" in response["Cache-Control"]
    assert cookies.TICKET_COOKIE in response.cookies


@room("on", total_active_users=1)
def test_apps_get_the_same_as_json(product):
    room_fill(1)

    response = visitor("203.0.113.5").get(CATALOG, HTTP_ACCEPT="application/json")
    data = response.json()

    assert data["status"] == "queued" and data["position"] >= 1
    assert set(data) >= {"position", "estimated_wait_seconds", "wait_known", "refresh_after_seconds"}
    assert data["wait_known"] is False  # nothing admitted yet to measure a pace from
    assert 4 <= data["refresh_after_seconds"] <= 7
    assert response["Retry-After"] == str(data["refresh_after_seconds"]) and "no-store" in response["Cache-Control"]


@room("on", total_active_users=1, new_users_per_minute=60)
def test_the_queue_page_carries_its_place_and_estimate_for_scripts_as_the_json_does(product):
    room_fill(1)
    queued = visitor("203.0.113.5")
    queued.get(CATALOG)  # takes a ticket: the next answers are for the same place in line

    page = queued.get(CATALOG).content.decode()
    data = queued.get(CATALOG, HTTP_ACCEPT="application/json").json()

    assert re.search(r'data-waiting-room="queued"', page)
    assert int(re.search(r'data-position="(\d+)"', page).group(1)) == data["position"]
    assert int(re.search(r'data-estimated-wait-seconds="(\d+)"', page).group(1)) == data["estimated_wait_seconds"]


def test_far_back_in_the_line_the_queue_page_asks_again_after_about_half_the_wait_left():
    def asked_back(wait_seconds: float) -> set[int]:
        return {refresh_after(wait_seconds) for _ in range(200)}

    assert asked_back(5) <= set(range(4, 8))  # near the front: within seconds
    assert asked_back(100) <= set(range(50, 89))  # half to seven eighths of the wait left
    longest = get_setting("WAITINGROOM_REFRESH_LONGEST_SECONDS")
    assert asked_back(3600) <= set(range(137, longest + 1)) and longest == 240  # far back: at most the longest


def test_a_flood_and_a_closed_room_say_when_to_come_back_and_no_cache_keeps_them(settings):
    settings.RESILIENCE_WAITINGROOM_FLOOD_RETRY_AFTER_SECONDS = 240
    settings.RESILIENCE_WAITINGROOM_CLOSED_RETRY_AFTER_SECONDS = 45

    flood, closed = flood_response(), closed_response()

    assert (flood.status_code, flood["Retry-After"]) == (429, "240")
    assert (closed.status_code, closed["Retry-After"]) == (503, "45")
    assert flood["Cache-Control"] == closed["Cache-Control"] == "no-store"
