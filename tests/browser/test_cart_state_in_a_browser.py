"""The page script in a real browser: it asks for the visitor's state only when the shop says it changed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CART_STATE = reverse("shop:cart_state")


def test_the_page_script_asks_when_a_form_is_sent_then_only_after_the_cart_changed(
    live_server, chromium, product, category
):
    page = chromium.new_context().new_page()
    asked = []
    page.on("requestfinished", lambda request: asked.append(request.url) if CART_STATE in request.url else None)
    product_page = live_server.url + product.get_absolute_url()

    page.goto(product_page)
    page.goto(live_server.url + reverse("shop:product_list"))
    page.goto(product_page)
    assert asked == []  # a first visit: an empty cart, nothing to ask until a form is sent

    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    assert len(asked) == 1  # the CSRF token, asked as the form was sent
    page.goto(product_page)
    expect(page.locator("[data-cart-count]")).to_have_text("1")
    expect(page.locator("input[data-csrf]")).not_to_have_value("")
    page.goto(product_page)
    expect(page.locator("[data-cart-count]")).to_have_text("1")  # kept, and still true
    expect(page.locator("input[data-csrf]")).not_to_have_value("")
    assert len(asked) == 2  # asked again once: after the cart changed
