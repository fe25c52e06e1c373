"""Old sessions (and the carts in them) are deleted on a schedule, not kept for ever."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from shop.tasks import sessions_clear_expired

pytestmark = pytest.mark.django_db


def test_beat_clears_expired_sessions_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]

    assert (entry["task"], entry["schedule"]) == ("shop.tasks.sessions_clear_expired", 3600)


def test_clearing_deletes_expired_sessions_and_keeps_live_ones():
    stores = [SessionStore() for _ in range(2)]
    for store in stores:
        store["cart"] = {"1": 1}
        store.save()
    Session.objects.filter(pk=stores[0].session_key).update(expire_date=timezone.now() - timedelta(days=1))

    sessions_clear_expired()

    assert list(Session.objects.values_list("pk", flat=True)) == [stores[1].session_key]
