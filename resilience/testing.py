"""Helpers for your own tests: switch the waiting room for one test, like django-waffle's ``override_flag``.

    from resilience.testing import override_waitingroom, room_fill

    @override_waitingroom("on", total_active_users=1)
    def test_a_new_visitor_waits_while_the_room_is_full(client):
        room_fill(1)
        assert b"You are in line" in client.get("/").content

    def test_checkout_with_the_room_off(client):
        with override_waitingroom("off"):
            ...

The configuration is pinned in this process for the block (the database row is neither
read nor written), so it works without a database and whatever the refresh interval. By
default the block starts from an empty room: its Redis state (tickets, admissions) is
forgotten on entry; ``reset=False`` keeps it, to change the configuration mid-test.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from dataclasses import replace

from resilience.waitingroom import adaptive
from resilience.waitingroom.config import RoomConfig, config_cache
from resilience.waitingroom.models import WaitingRoomConfig
from resilience.waitingroom.store import room_arrive, room_reset

__all__ = ["override_waitingroom", "room_fill"]


class override_waitingroom(ContextDecorator):  # noqa: N801 - named like Django's override_settings
    """Run a block or a test with the room in ``mode`` ("off", "on", "auto"), other fields as given.

    ``fields`` are RoomConfig's (total_active_users, new_users_per_minute, session_seconds,
    protected_paths, message, event_start, event_end, min_users_per_minute, target_latency_ms,
    target_queue_ms, max_users_per_minute); the others keep the admin's defaults.
    """

    def __init__(self, mode: str = "on", *, reset: bool = True, **fields) -> None:
        if mode not in WaitingRoomConfig.Mode.values:
            raise ValueError(f"mode must be one of {WaitingRoomConfig.Mode.values}, not {mode!r}")
        self.config = replace(RoomConfig.from_model(WaitingRoomConfig()), mode=mode, **fields)
        self.reset = reset
        self._previous: list[RoomConfig | None] = []

    def __enter__(self) -> RoomConfig:
        if self.reset:
            room_reset()
        self._previous.append(config_cache.pinned)
        config_cache.pinned = self.config
        adaptive.current.clear()  # the last decision was taken for another configuration
        return self.config

    def __exit__(self, *exc_info) -> None:
        config_cache.pinned = self._previous.pop()
        adaptive.current.clear()


def room_fill(slots: int) -> None:
    """Take ``slots`` of the room's active places (tickets ``earlier-<n>``), as visitors let in earlier would."""
    config = config_cache.get()
    for n in range(slots):
        room_arrive(config=config, phase="auto", ticket=f"earlier-{n}", client_address=f"192.0.2.{n % 256}")
