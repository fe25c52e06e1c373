"""The waiting room's admin page switches the room for every replica."""

from __future__ import annotations

import pytest
from django.urls import reverse

from resilience.waitingroom.config import config_cache
from resilience.waitingroom.models import WaitingRoomConfig
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, visitor

pytestmark = pytest.mark.django_db


FORM = {
    "mode": "on",
    "total_active_users": 1,
    "new_users_per_minute": 60,
    "session_duration": 15,
    "min_users_per_minute": 30,
    "max_users_per_minute": "",
    "target_latency_ms": 500,
    "target_queue_ms": 250,
    "protected_paths": "/",
    "message": "Big sale: thanks for waiting",
    "event_start_0": "",
    "event_start_1": "",
    "event_end_0": "",
    "event_end_1": "",
}
CHANGE = reverse("admin:resilience_waitingroomconfig_change", args=[1])


def test_the_admin_switches_the_room(admin_client, product):
    WaitingRoomConfig.load()
    assert admin_client.post(CHANGE, FORM).status_code == 302
    config_cache.clear()
    visitor().get(CATALOG)

    page = visitor("198.51.100.8").get(CATALOG)

    assert is_queued(page) and b"Big sale: thanks for waiting" in page.content


def test_a_maximum_pace_under_the_minimum_is_refused_with_a_message_and_nothing_changes(admin_client):
    WaitingRoomConfig.load()

    page = admin_client.post(CHANGE, {**FORM, "mode": "auto", "max_users_per_minute": 10})

    assert page.status_code == 200
    assert "The most visitors let in per minute cannot be under the least." in page.content.decode()
    row = WaitingRoomConfig.load()
    assert row.mode == "off" and row.max_users_per_minute is None


def test_the_admin_page_says_what_the_room_holds_now(admin_client):
    WaitingRoomConfig.load()

    page = admin_client.get(reverse("admin:resilience_waitingroomconfig_change", args=[1])).content.decode()

    assert "0 waiting, 0 of 500 active" in page
