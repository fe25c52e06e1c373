"""override_waitingroom: what users' own tests switch the room with, as a decorator or a block."""

from __future__ import annotations

import pytest

from resilience.testing import override_waitingroom, room_fill
from resilience.waitingroom.config import current_config
from resilience.waitingroom.store import room_arrive
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, status, visitor


@override_waitingroom("on", total_active_users=3)
def test_as_a_decorator_it_switches_the_room_for_the_test():
    assert (current_config().mode, current_config().total_active_users) == ("on", 3)


def test_as_a_block_it_switches_the_room_and_puts_back_what_was_before():
    before = current_config()

    with override_waitingroom("auto", message="Soon") as config:
        assert current_config() == config and config.message == "Soon"
        with override_waitingroom("off"):
            assert current_config().mode == "off"
        assert current_config().mode == "auto"

    assert current_config() == before


def test_the_other_fields_are_the_admins_defaults():
    with override_waitingroom("on") as config:
        assert (config.total_active_users, config.new_users_per_minute, config.session_seconds) == (500, 120, 15 * 60)
        assert config.protected_paths == ("/",)


def test_each_block_starts_from_an_empty_room_unless_asked_to_keep_it():
    with override_waitingroom("on", total_active_users=1):
        room_fill(1)
        assert status().active_users == 1
    with override_waitingroom("on", total_active_users=1, reset=False):
        assert status().active_users == 1
    with override_waitingroom("on", total_active_users=1):
        assert status().active_users == 0


@pytest.mark.django_db
def test_a_full_room_queues_the_next_visitor(product):
    with override_waitingroom("on", total_active_users=1, new_users_per_minute=6000):
        room_fill(1)
        assert is_queued(visitor().get(CATALOG))
    with override_waitingroom("off"):
        assert not is_queued(visitor().get(CATALOG))


def test_a_mode_or_field_the_room_does_not_have_is_refused():
    with pytest.raises(ValueError, match="mode"):
        override_waitingroom("maybe")
    with pytest.raises(TypeError):
        override_waitingroom("on", cap=3)


def test_the_room_fill_takes_active_places_as_earlier_visitors():
    with override_waitingroom("on", total_active_users=2):
        room_fill(2)
        visit = room_arrive(config=current_config(), phase="on", ticket="late", client_address="198.51.100.1")
        assert (status().active_users, visit.outcome) == (2, "queued")
