"""The waiting room in a real browser: queued without JavaScript, let in by the page's own refresh, then a purchase."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from resilience.testing import override_waitingroom, room_fill
from resilience.waitingroom import cookies
from resilience.waitingroom.store import room_release
from shop.models import Order

pytestmark = pytest.mark.browser

LET_IN_WITHIN_MS = 20_000  # the page refreshes every 2-3 s here; allow for a slow machine


@override_waitingroom("on", total_active_users=1, new_users_per_minute=6000)
def test_a_queued_visitor_sees_their_place_is_let_in_and_buys(
    transactional_db, live_server, chromium, product, customer, settings, tmp_path
):
    settings.RESILIENCE_WAITINGROOM_REFRESH_SECONDS = (2, 3)
    room_fill(1)
    catalog = live_server.url + reverse("shop:product_list")

    # The queue needs no JavaScript: its own <meta http-equiv="refresh"> brings the visitor in.
    queue = chromium.new_context(java_script_enabled=False)
    page = queue.new_page()
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.goto(catalog)

    expect(page.get_by_role("heading", name="You are in line")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Your place in line: 1 of 1"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Estimated wait: less than a minute"))).to_be_visible()
    expect(page.locator("progress")).to_be_visible()
    assert page.locator("script").count() == 0
    assert re.fullmatch(r"[23]", page.locator('meta[http-equiv="refresh"]').get_attribute("content"))
    screenshot = tmp_path / "waiting-room.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0
    print(f"waiting room screenshot: {screenshot}")  # shown with the output of a failing run

    room_release(visitor="earlier-0")

    expect(page.get_by_text(product.name)).to_be_visible(timeout=LET_IN_WITHIN_MS)
    assert len(navigations) >= 2  # nobody reloaded it but the page itself
    expect(page.get_by_role("heading", name="All products")).to_be_visible()

    # The cached product page gets its CSRF token from JavaScript, as the form is sent: buy in a
    # browser that runs it, carrying the pass over as the same visitor.
    shop = chromium.new_context()
    shop.add_cookies(queue.cookies())
    page = shop.new_page()
    page.goto(live_server.url + product.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    page.get_by_role("link", name="Check out").click()
    for label, value in [
        ("Email", customer["email"]),
        ("Full name", customer["full_name"]),
        ("Address", customer["address"]),
        ("Postal code", customer["postal_code"]),
        ("City", customer["city"]),
        ("Country", customer["country"]),
    ]:
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Place order").click()

    heading = page.get_by_role("heading", name=re.compile(r"^Order SP-[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    expect(heading).to_be_visible()
    order = Order.objects.get()
    assert heading.inner_text() == f"Order {order.number}" and order.email == customer["email"]
    assert cookies.PASS_COOKIE not in {cookie["name"] for cookie in shop.cookies()}  # done: the place is given up
