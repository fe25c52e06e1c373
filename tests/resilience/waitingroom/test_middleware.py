"""The room's middleware: who is queued, who passes, and what happens when its Redis is down."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from resilience.testing import room_fill
from resilience.waitingroom import cookies
from resilience.waitingroom.store import _client, _script
from tests.resilience.waitingroom.helpers import CART_STATE, CATALOG, is_queued, room, status, visitor
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

pytestmark = pytest.mark.django_db


@room("off")
def test_with_the_room_off_nobody_waits(product):
    response = visitor().get(CATALOG)
    assert response.status_code == 200 and not is_queued(response)
    assert cookies.TICKET_COOKIE not in response.cookies


def test_a_customer_already_buying_may_finish_counted_as_active_but_browsing_takes_a_pass(product, customer):
    shopper = visitor()
    with room("off"):
        add_to_cart(shopper, product, 1)
    with room("on", total_active_users=1):
        room_fill(1)

        assert is_queued(shopper.get(CATALOG))  # a cart is no pass to browse on
        assert shopper.get(reverse("shop:cart")).status_code == 200
        assert status().active_users == 2  # counted against the cap, even over it
        response = submit_checkout(shopper, checkout_token(shopper), customer)
        assert response.status_code == 302 and "/orders/" in response["Location"]
        assert not is_queued(shopper.get(response["Location"]))
        assert status().active_users == 1  # the order placed, their slot is free


@pytest.mark.parametrize("event", ["before the start", "at the start"])
def test_during_a_scheduled_event_a_cart_skips_no_queue(product, event):
    shopper = visitor()
    with room("off"):
        add_to_cart(shopper, product, 1)
    start = timezone.now() + timezone.timedelta(hours=1 if event == "before the start" else -1)
    with room("on", total_active_users=1, event_start=start):
        room_fill(1)

        page = shopper.get(reverse("shop:checkout"))

    assert b"has not started yet" in page.content if event == "before the start" else is_queued(page)


@pytest.mark.parametrize("path", ["/healthz", "/admin/login/", "/static/shop/css/shop.css"])
@room("on", total_active_users=1)
def test_probes_admin_and_static_files_are_never_queued(path):
    room_fill(1)
    assert not is_queued(visitor("203.0.113.2").get(path))
    assert is_queued(visitor("203.0.113.3").get(CATALOG))  # while the room queues a page


@room("on", total_active_users=1)
def test_the_address_is_the_one_our_proxy_saw(product, settings):
    settings.RESILIENCE_WAITINGROOM_TICKETS_PER_ADDRESS = 2
    settings.RESILIENCE_TRUSTED_PROXY_COUNT = 1
    room_fill(1)

    def behind_nginx(forged_first_hop: str) -> int:
        browser = Client(REMOTE_ADDR="127.0.0.1")  # nginx's address, with no cookie: a new ticket each time
        return browser.get(CATALOG, HTTP_X_FORWARDED_FOR=f"{forged_first_hop}, 203.0.113.77").status_code

    answers = [behind_nginx(f"10.9.9.{n}") for n in range(3)]

    assert answers == [200, 200, 429]  # a forged first hop does not make a new address


@room("auto", total_active_users=2, new_users_per_minute=1)
def test_in_auto_mode_visitors_go_straight_in_while_the_shop_keeps_up_whatever_on_modes_limits(product):
    browsers = [visitor(f"198.51.100.{n}") for n in range(3)]
    visits = [(browser.get(CATALOG), browser.get(CART_STATE)) for browser in browsers]

    assert not any(is_queued(page) or is_queued(state) for page, state in visits)
    assert all(cookies.PASS_COOKIE in state.cookies for _, state in visits)
    assert status().active_users == 3


@room("auto")
def test_an_open_room_leaves_a_page_a_shared_cache_may_keep_as_it_is_and_gives_its_pass_where_none_could(product):
    browser = visitor()
    page = browser.get(CATALOG)
    state = browser.get(CART_STATE)  # the page script's call: never cached

    assert not page.cookies and "private" not in page.get("Cache-Control", "")  # nginx may keep it
    assert cookies.PASS_COOKIE in state.cookies
    assert status().active_users == 1  # let in once, when the pass was given


def test_redis_down_fails_open_by_default_and_closed_if_asked(product, private_redis, settings):
    _client.cache_clear()
    _script.cache_clear()
    try:
        with room("on", total_active_users=1):
            private_redis.stop()
            assert visitor().get(CATALOG).status_code == 200

            settings.RESILIENCE_WAITINGROOM_FAIL_OPEN = False
            refused = visitor("198.51.100.4").get(CATALOG)
            assert refused.status_code == 503 and refused["Retry-After"]
    finally:
        _client.cache_clear()
        _script.cache_clear()
