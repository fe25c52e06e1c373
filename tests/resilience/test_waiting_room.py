"""The waiting room: fair, signed, shared through the real Redis, and never in a buyer's way."""
from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from resilience.conf import get_setting
from resilience.waitingroom import cookies
from resilience.waitingroom.config import config_cache
from resilience.waitingroom.models import WaitingRoomConfig
from resilience.waitingroom.store import _client, _script, room_arrive, room_release, room_status
from resilience.waitingroom.config import current_config
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

pytestmark = pytest.mark.django_db
CATALOG = reverse("shop:product_list")


def room(mode: str, **numbers) -> None:
    """Configure the room as the admin would, and make this process see it at once."""
    row = WaitingRoomConfig.load()
    row.mode = mode
    for name, value in {"total_active_users": 1000, "new_users_per_minute": 6000, **numbers}.items():
        setattr(row, name, value)
    row.save()
    config_cache.clear()


def occupy(slots: int) -> None:
    """Fill the room's active slots, as visitors let in earlier would."""
    config = current_config()
    for n in range(slots):
        room_arrive(config=config, phase="auto", ticket=f"earlier-{n}", client_address=f"192.0.2.{n}")


def visitor(address: str = "198.51.100.7") -> Client:
    return Client(REMOTE_ADDR=address)


def is_queued(response) -> bool:
    return response.status_code == 200 and b"You are in line" in response.content


def position(response) -> int:
    return int(re.search(rb'class="big">(\d+)<', response.content).group(1))


def status():
    config = current_config()
    return room_status(config=config, phase=config.phase())


def test_with_the_room_off_nobody_waits(product):
    room("off")
    response = visitor().get(CATALOG)
    assert response.status_code == 200 and not is_queued(response)
    assert cookies.TICKET_COOKIE not in response.cookies


def test_with_the_room_on_a_new_visitor_sees_their_place_wait_and_a_polite_refresh(product):
    room("on", total_active_users=1)
    occupy(1)

    response = visitor("203.0.113.5").get(CATALOG)

    assert is_queued(response)
    refresh = int(re.search(rb'http-equiv="refresh" content="(\d+)"', response.content).group(1))
    assert 10 <= refresh <= 15 and response["Retry-After"] == str(refresh)
    assert b"Estimated wait" in response.content and b"<progress" in response.content
    assert "no-store" in response["Cache-Control"]
    assert cookies.TICKET_COOKIE in response.cookies


def test_apps_get_the_same_as_json(product):
    room("on", total_active_users=1)
    occupy(1)

    data = visitor("203.0.113.5").get(CATALOG, HTTP_ACCEPT="application/json").json()

    assert data["status"] == "queued" and data["position"] >= 1
    assert set(data) >= {"position", "estimated_wait_seconds", "wait_known", "refresh_after_seconds"}
    assert data["wait_known"] is False  # nothing admitted yet to measure a pace from
    assert 10 <= data["refresh_after_seconds"] <= 15


def test_the_queue_page_carries_its_place_and_estimate_for_scripts_as_the_json_does(product):
    room("on", total_active_users=1, new_users_per_minute=60)
    occupy(1)
    queued = visitor("203.0.113.5")
    queued.get(CATALOG)  # takes a ticket: the next answers are for the same place in line

    page = queued.get(CATALOG).content.decode()
    data = queued.get(CATALOG, HTTP_ACCEPT="application/json").json()

    assert re.search(r'data-waiting-room="queued"', page)
    assert int(re.search(r'data-position="(\d+)"', page).group(1)) == data["position"]
    assert int(re.search(r'data-estimated-wait-seconds="(\d+)"', page).group(1)) == data["estimated_wait_seconds"]


def test_visitors_are_let_in_first_come_first_served_within_the_active_cap(product):
    room("on", total_active_users=2)
    occupy(2)
    line = [visitor(f"198.51.100.{n}") for n in range(5)]
    assert [position(browser.get(CATALOG)) for browser in line] == [1, 2, 3, 4, 5]
    assert all(is_queued(browser.get(CATALOG)) for browser in line)  # the room is full: nobody moves

    room_release(visitor="earlier-0")
    room_release(visitor="earlier-1")
    results = [browser.get(CATALOG) for browser in reversed(line)]  # the last in line asks first

    admitted = [browser for browser, result in zip(reversed(line), results) if not is_queued(result)]
    assert set(admitted) == {line[0], line[1]}  # the two at the front, whoever asked first
    assert status().active_users == 2
    assert [position(line[n].get(CATALOG)) for n in range(2, 5)] == [1, 2, 3]


def test_an_admitted_visitor_stays_in_and_completing_an_order_frees_their_place(product, customer):
    room("on", total_active_users=1)
    buyer, waiting = visitor("198.51.100.1"), visitor("198.51.100.2")
    assert is_queued(buyer.get(CATALOG))
    assert not is_queued(buyer.get(CATALOG))  # let in on their next visit
    assert is_queued(waiting.get(CATALOG))
    assert not is_queued(buyer.get(product.get_absolute_url()))

    add_to_cart(buyer, product, 1)
    placed = submit_checkout(buyer, checkout_token(buyer), customer)

    assert placed.status_code == 302
    assert placed.cookies[cookies.PASS_COOKIE].value == ""  # the pass is dropped with the order
    assert not is_queued(waiting.get(CATALOG))  # the freed place goes to the next in line
    assert status().active_users == 1


def test_a_customer_already_buying_may_finish_counted_as_active_but_browsing_takes_a_pass(product, customer):
    room("off")
    shopper = visitor()
    add_to_cart(shopper, product, 1)
    room("on", total_active_users=1)
    occupy(1)

    assert is_queued(shopper.get(CATALOG))  # a cart is no pass to browse on
    assert shopper.get(reverse("shop:cart")).status_code == 200
    assert status().active_users == 2  # counted against the cap, even over it
    response = submit_checkout(shopper, checkout_token(shopper), customer)
    assert response.status_code == 302 and "/orders/" in response["Location"]
    assert not is_queued(shopper.get(response["Location"]))
    assert status().active_users == 1  # the order placed, their slot is free


@pytest.mark.parametrize("event", ["before the start", "at the start"])
def test_during_a_scheduled_event_a_cart_skips_no_queue(product, event):
    from django.utils import timezone

    room("off")
    shopper = visitor()
    add_to_cart(shopper, product, 1)
    room("on", total_active_users=1)
    row = WaitingRoomConfig.load()
    row.event_start = timezone.now() + timezone.timedelta(hours=1 if event == "before the start" else -1)
    row.save()
    config_cache.clear()
    occupy(1)

    page = shopper.get(reverse("shop:checkout"))

    assert b"has not started yet" in page.content if event == "before the start" else is_queued(page)


def test_a_copied_pass_admits_one_visitor_once_either_holder_renews_it(product, settings):
    settings.RESILIENCE_WAITINGROOM_RENEW_AFTER_SECONDS = 0  # every request renews the pass
    room("on", total_active_users=5)
    member = visitor("198.51.100.1")
    member.get(CATALOG)
    assert not is_queued(member.get(CATALOG))
    copy = visitor("198.51.100.2")
    copy.cookies[cookies.PASS_COOKIE] = member.cookies[cookies.PASS_COOKIE].value

    assert not is_queued(member.get(CATALOG))  # renewed: the pass's nonce moves on
    assert is_queued(copy.get(CATALOG))  # the copy's nonce is stale: the back of the queue
    assert not is_queued(member.get(CATALOG))
    assert cookies.TICKET_COOKIE in copy.cookies  # the copy now waits with a ticket of its own


@pytest.mark.parametrize("path", ["/healthz", "/admin/login/", "/static/shop/css/shop.css"])
def test_probes_admin_and_static_files_are_never_queued(path):
    room("on", total_active_users=1)
    occupy(1)
    assert not is_queued(visitor("203.0.113.2").get(path))


def test_a_tampered_ticket_goes_to_the_back_of_the_queue(product):
    room("on", total_active_users=1)
    occupy(1)
    for n in range(4):
        visitor(f"198.51.100.{n}").get(CATALOG)
    cheat = visitor("203.0.113.66")
    first = cheat.get(CATALOG)
    assert position(first) == 5
    ticket = first.cookies[cookies.TICKET_COOKIE].value
    forged = signing.dumps({"t": "someone-else", "p": 1}, salt="wrong-salt")

    cheat.cookies[cookies.TICKET_COOKIE] = ticket[:-3] + "abc"
    assert position(cheat.get(CATALOG)) == 6  # a new ticket, behind everyone
    cheat.cookies[cookies.TICKET_COOKIE] = forged
    assert position(cheat.get(CATALOG)) == 7


def test_an_expired_ticket_goes_to_the_back_of_the_queue(product, settings):
    room("on", total_active_users=1)
    occupy(1)
    late = visitor("203.0.113.66")
    assert position(late.get(CATALOG)) == 1
    visitor("198.51.100.9").get(CATALOG)

    settings.RESILIENCE_WAITINGROOM_TICKET_MAX_AGE_SECONDS = 0

    assert position(late.get(CATALOG)) == 3  # a new ticket, behind the one who came after


def test_a_replayed_ticket_lets_only_one_visitor_in(product):
    room("on", total_active_users=5)
    first = visitor("198.51.100.1")
    first.get(CATALOG)
    copy = visitor("198.51.100.2")
    copy.cookies[cookies.TICKET_COOKIE] = first.cookies[cookies.TICKET_COOKIE].value

    assert not is_queued(first.get(CATALOG))  # admitted, and the ticket is used up
    assert is_queued(copy.get(CATALOG))  # the copy buys nothing but a new ticket


def test_a_tampered_or_expired_pass_is_not_honoured(product):
    room("on", total_active_users=5)
    member = visitor()
    member.get(CATALOG)
    assert not is_queued(member.get(CATALOG))
    good = member.cookies[cookies.PASS_COOKIE].value

    member.cookies[cookies.PASS_COOKIE] = good[:-2] + "xx"
    assert is_queued(member.get(CATALOG))

    stale = visitor("198.51.100.3")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        stale.cookies[cookies.PASS_COOKIE] = signing.dumps({"v": "x", "i": time.time() - 3600, "n": ""},
                                                           salt=cookies.PASS_SALT)
    assert is_queued(stale.get(CATALOG))


def test_one_address_cannot_flood_the_queue(product, settings):
    settings.RESILIENCE_WAITINGROOM_TICKETS_PER_ADDRESS = 5
    room("on", total_active_users=1)
    occupy(1)

    answers = [visitor("203.0.113.50").get(CATALOG).status_code for _ in range(7)]

    assert answers == [200] * 5 + [429] * 2
    assert visitor("203.0.113.51").get(CATALOG).status_code == 200


def test_the_address_is_the_one_our_proxy_saw(product, settings):
    settings.RESILIENCE_WAITINGROOM_TICKETS_PER_ADDRESS = 2
    settings.RESILIENCE_TRUSTED_PROXY_COUNT = 1
    room("on", total_active_users=1)
    occupy(1)

    def behind_nginx(forged_first_hop: str) -> int:
        browser = Client(REMOTE_ADDR="127.0.0.1")  # nginx's address, with no cookie: a new ticket each time
        return browser.get(CATALOG, HTTP_X_FORWARDED_FOR=f"{forged_first_hop}, 203.0.113.77").status_code

    answers = [behind_nginx(f"10.9.9.{n}") for n in range(3)]

    assert answers == [200, 200, 429]  # a forged first hop does not make a new address


def test_abandoned_tickets_are_dropped(product, settings):
    settings.RESILIENCE_WAITINGROOM_ABANDON_AFTER_SECONDS = 1
    room("on", total_active_users=1)
    occupy(1)
    gone, staying = visitor("198.51.100.2"), visitor("198.51.100.3")
    gone.get(CATALOG)
    assert position(staying.get(CATALOG)) == 2

    time.sleep(1.2)

    assert position(staying.get(CATALOG)) == 1


def test_in_auto_mode_visitors_go_straight_in_until_the_limits_are_reached(product):
    room("auto", total_active_users=2)

    first, second, third = (visitor(f"198.51.100.{n}").get(CATALOG) for n in range(3))

    assert not is_queued(first) and not is_queued(second)
    assert cookies.PASS_COOKIE in first.cookies
    assert is_queued(third)


def test_before_a_scheduled_event_visitors_wait_then_are_ordered_randomly(product):
    from django.utils import timezone

    room("on", total_active_users=1)
    row = WaitingRoomConfig.load()
    row.event_start = timezone.now() + timezone.timedelta(hours=1)
    row.save()
    config_cache.clear()
    early = [visitor(f"198.51.100.{n}") for n in range(8)]
    pages = [browser.get(CATALOG) for browser in early]
    assert all(b"has not started yet" in page.content for page in pages)

    row.event_start = timezone.now() - timezone.timedelta(seconds=1)
    row.save()
    config_cache.clear()

    results = [browser.get(CATALOG) for browser in early]
    places = sorted(position(page) for page in results if is_queued(page))
    assert len(places) == 7 and places == list(range(1, 8))  # one let in, the rest in line


def test_redis_down_fails_open_by_default_and_closed_if_asked(product, private_redis, settings):
    _client.cache_clear()
    _script.cache_clear()
    try:
        room("on", total_active_users=1)
        private_redis.stop()
        assert visitor().get(CATALOG).status_code == 200

        settings.RESILIENCE_WAITINGROOM_FAIL_OPEN = False
        refused = visitor("198.51.100.4").get(CATALOG)
        assert refused.status_code == 503 and refused["Retry-After"]
    finally:
        _client.cache_clear()
        _script.cache_clear()


def test_the_management_command_switches_the_room(product):
    from django.core.management import call_command

    call_command("waitingroom", "on", "--total-active-users", "1", "--new-users-per-minute", "30")
    config_cache.clear()
    visitor().get(CATALOG)
    assert is_queued(visitor("198.51.100.8").get(CATALOG))

    call_command("waitingroom", "off")
    config_cache.clear()
    assert not is_queued(visitor("198.51.100.9").get(CATALOG))


def test_the_admin_switches_the_room(admin_client, product):
    url = reverse("admin:resilience_waitingroomconfig_change", args=[1])
    WaitingRoomConfig.load()
    form = {
        "mode": "on", "total_active_users": 1, "new_users_per_minute": 60, "session_duration": 15,
        "min_users_per_minute": 30, "target_latency_ms": 500, "target_queue_ms": 250,
        "protected_paths": "/", "message": "Big sale: thanks for waiting", "event_start_0": "", "event_start_1": "",
        "event_end_0": "", "event_end_1": "",
    }
    assert admin_client.post(url, form).status_code == 302
    config_cache.clear()
    visitor().get(CATALOG)

    page = visitor("198.51.100.8").get(CATALOG)

    assert is_queued(page) and b"Big sale: thanks for waiting" in page.content


def test_the_queues_pace_counts_only_visitors_let_in_from_the_queue(product):
    room("auto", total_active_users=2)
    occupy(2)  # let straight in while the room had space: that says nothing of the queue's pace
    waiting = visitor("198.51.100.9")
    assert is_queued(waiting.get(CATALOG))
    assert status().admissions_in_window == 0

    room_release(visitor="earlier-0")

    assert not is_queued(waiting.get(CATALOG))
    assert status().admissions_in_window == 1


def test_far_back_in_the_line_the_queue_page_asks_again_less_often():
    from resilience.waitingroom.pages import refresh_after

    near = {refresh_after(5) for _ in range(200)}
    far = {refresh_after(3600) for _ in range(200)}

    assert near <= set(range(10, 16)) and far <= set(range(40, 61))
    assert 2 * max(far) < get_setting("WAITINGROOM_ABANDON_AFTER_SECONDS")  # a waiting ticket is never dropped
