"""The room's shared state in the real Redis: first come first served, caps, floods, abandonment, events."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from resilience.testing import room_fill
from resilience.waitingroom import cookies
from resilience.waitingroom.store import room_release
from tests.resilience.helpers import eventually
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, position, room, status, visitor

pytestmark = pytest.mark.django_db


@room("on", total_active_users=2)
def test_visitors_are_let_in_first_come_first_served_within_the_active_cap(product):
    room_fill(2)
    line = [visitor(f"198.51.100.{n}") for n in range(5)]
    assert [position(browser.get(CATALOG)) for browser in line] == [1, 2, 3, 4, 5]
    assert all(is_queued(browser.get(CATALOG)) for browser in line)  # the room is full: nobody moves

    room_release(visitor="earlier-0")
    room_release(visitor="earlier-1")
    results = [browser.get(CATALOG) for browser in reversed(line)]  # the last in line asks first

    admitted = [browser for browser, result in zip(reversed(line), results, strict=True) if not is_queued(result)]
    assert set(admitted) == {line[0], line[1]}  # the two at the front, whoever asked first
    assert status().active_users == 2
    assert [position(line[n].get(CATALOG)) for n in range(2, 5)] == [1, 2, 3]


@room("on", total_active_users=5)
def test_a_replayed_ticket_lets_only_one_visitor_in(product):
    first = visitor("198.51.100.1")
    first.get(CATALOG)
    copy = visitor("198.51.100.2")
    copy.cookies[cookies.TICKET_COOKIE] = first.cookies[cookies.TICKET_COOKIE].value

    assert not is_queued(first.get(CATALOG))  # admitted, and the ticket is used up
    assert is_queued(copy.get(CATALOG))  # the copy buys nothing but a new ticket


@room("on", total_active_users=1)
def test_one_address_cannot_flood_the_queue(product, settings):
    settings.RESILIENCE_WAITINGROOM_TICKETS_PER_ADDRESS = 5
    room_fill(1)

    answers = [visitor("203.0.113.50").get(CATALOG).status_code for _ in range(7)]

    assert answers == [200] * 5 + [429] * 2
    assert visitor("203.0.113.51").get(CATALOG).status_code == 200


@room("on", total_active_users=1)
def test_a_ticket_not_back_after_the_time_its_page_gave_is_dropped(product, settings):
    settings.RESILIENCE_WAITINGROOM_ABANDON_AFTER_SECONDS = 1
    settings.RESILIENCE_WAITINGROOM_REFRESH_SECONDS = (1, 1)
    room_fill(1)
    gone, staying = visitor("198.51.100.2"), visitor("198.51.100.3")
    gone.get(CATALOG)  # asked back in a second, and never comes
    assert position(staying.get(CATALOG)) == 2

    # Redis's own clock drops the ticket nobody polls; the one who stays keeps asking.
    eventually(lambda: position(staying.get(CATALOG)) == 1)


@room("on", total_active_users=1)
def test_a_ticket_asked_back_later_keeps_its_place_until_then(product, settings):
    settings.RESILIENCE_WAITINGROOM_ABANDON_AFTER_SECONDS = 1
    settings.RESILIENCE_WAITINGROOM_REFRESH_SECONDS = (4, 4)
    room_fill(1)
    far_back, behind = visitor("198.51.100.2"), visitor("198.51.100.3")
    far_back.get(CATALOG)  # asked back in 4 s: more than the second a silent ticket is kept
    behind.get(CATALOG)

    time.sleep(2)  # Redis's clock: past the grace from the first answer, not past the time given

    assert position(behind.get(CATALOG)) == 2
    assert position(far_back.get(CATALOG)) == 1


@room("on", total_active_users=1)
def test_a_visitor_let_in_before_the_time_their_page_gave_finds_their_place_kept(product, settings):
    settings.RESILIENCE_WAITINGROOM_CLAIM_SECONDS = 1
    settings.RESILIENCE_WAITINGROOM_REFRESH_SECONDS = (3, 3)
    room_fill(1)
    late = visitor("198.51.100.2")
    late.get(CATALOG)  # asked back in 3 s
    room_release(visitor="earlier-0")
    assert status().active_users == 1  # let in from the front (status admits), with nobody there yet

    time.sleep(2)  # past the claim window from the admission, within it from the time given

    assert not is_queued(late.get(CATALOG))


def test_before_a_scheduled_event_visitors_wait_then_are_ordered_randomly(product):
    early = [visitor(f"198.51.100.{n}") for n in range(8)]
    with room("on", total_active_users=1, event_start=timezone.now() + timezone.timedelta(hours=1)):
        pages = [browser.get(CATALOG) for browser in early]
    assert all(b"has not started yet" in page.content for page in pages)

    with room("on", total_active_users=1, event_start=timezone.now() - timezone.timedelta(seconds=1), reset=False):
        results = [browser.get(CATALOG) for browser in early]

    places = sorted(position(page) for page in results if is_queued(page))
    assert len(places) == 7 and places == list(range(1, 8))  # one let in, the rest in line


@room("on", total_active_users=2)
def test_the_queues_pace_counts_only_visitors_let_in_from_the_queue(product):
    room_fill(2)  # let in without queueing: that says nothing of the queue's pace
    waiting = visitor("198.51.100.9")
    assert is_queued(waiting.get(CATALOG))
    assert status().admissions_in_window == 0

    room_release(visitor="earlier-0")

    assert not is_queued(waiting.get(CATALOG))
    assert status().admissions_in_window == 1
