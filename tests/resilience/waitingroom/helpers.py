"""Visitors of the room in tests: a browser from an address, and what a response says of its place."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from resilience.testing import override_waitingroom
from resilience.waitingroom.config import current_config
from resilience.waitingroom.store import RoomStatus, room_status

CATALOG = reverse("shop:product_list")
CART_STATE = reverse("shop:cart_state")  # the page script's call: never cached


def visitor(address: str = "198.51.100.7") -> Client:
    return Client(REMOTE_ADDR=address)


def is_queued(response) -> bool:
    return response.status_code == 200 and b"You are in line" in response.content


def position(response) -> int:
    return int(re.search(rb'class="big">(\d+)<', response.content).group(1))


def status() -> RoomStatus:
    config = current_config()
    return room_status(config=config, phase=config.phase())


def room(mode: str, **fields) -> override_waitingroom:
    """The room in ``mode``, letting visitors in as fast as a test asks unless ``fields`` say otherwise."""
    return override_waitingroom(mode, **{"total_active_users": 1000, "new_users_per_minute": 6000, **fields})
