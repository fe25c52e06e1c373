"""`manage.py waitingroom`: switch the room for every replica, and say what it holds."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from resilience.waitingroom.config import config_cache
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, visitor

pytestmark = pytest.mark.django_db


def test_the_management_command_switches_the_room(product):
    call_command("waitingroom", "on", "--total-active-users", "1", "--new-users-per-minute", "30")
    config_cache.clear()
    visitor().get(CATALOG)
    assert is_queued(visitor("198.51.100.8").get(CATALOG))

    call_command("waitingroom", "off")
    config_cache.clear()
    assert not is_queued(visitor("198.51.100.9").get(CATALOG))


def test_a_bad_number_or_date_is_refused_and_nothing_changes(capsys):
    with pytest.raises(CommandError, match="total_active_users"):
        call_command("waitingroom", "on", "--total-active-users", "0")
    with pytest.raises(CommandError, match="not a date-time"):
        call_command("waitingroom", "on", "--event-start", "tomorrow")

    call_command("waitingroom", "status")

    assert "mode: off" in capsys.readouterr().out
