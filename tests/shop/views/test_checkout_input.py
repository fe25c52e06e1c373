"""Checkout input: a bad form is answered with what is wrong, and nothing is ordered or reserved."""

from __future__ import annotations

import time
import uuid

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from shop.forms import CHECKOUT_TOKEN_MAX_AGE, CHECKOUT_TOKEN_SALT, checkout_token_new, checkout_token_salt
from shop.models import Order, Product
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("shop:checkout")
NOT_VALID = "This checkout form is not valid. Please submit it again."


@pytest.fixture
def shopper(client, product):
    """A client with 3 boards (of 10 in stock) in the cart and the checkout page open."""
    add_to_cart(client, product, 3)
    return client


def assert_nothing_ordered(product) -> None:
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock == 10


def rendered_token(response) -> str:
    return response.context["form"]["token"].value()


def expired_token(monkeypatch, session_key: str) -> str:
    """Return a checkout token signed just over its lifetime ago."""
    signed_at = time.time() - CHECKOUT_TOKEN_MAX_AGE - 60
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: signed_at)
        return checkout_token_new(session_key)


@pytest.mark.parametrize("missing", ["email", "full_name", "address", "postal_code", "city", "country"])
def test_a_missing_field_is_named_and_nothing_is_ordered(shopper, product, customer, missing):
    token = checkout_token(shopper)
    del customer[missing]

    response = submit_checkout(shopper, token, customer)

    assert response.status_code == 400
    assert response.context["form"].errors == {missing: ["This field is required."]}
    assertContains(response, "This field is required.", status_code=400)
    assert_nothing_ordered(product)


def test_a_form_with_every_field_blank_lists_every_field(shopper, product):
    response = shopper.post(CHECKOUT, {"token": checkout_token(shopper)})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "full_name", "address", "postal_code", "city", "country"}
    assert_nothing_ordered(product)


@pytest.mark.parametrize(
    "email", ["ann", "ann@", "@example.com", "ann@example", "ann @example.com", "a" * 250 + "@x.com"]
)
def test_an_invalid_email_is_refused_and_nothing_is_ordered(shopper, product, customer, email):
    response = submit_checkout(shopper, checkout_token(shopper), {**customer, "email": email})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["email"]
    assert_nothing_ordered(product)


def test_a_field_over_its_length_limit_is_refused(shopper, product, customer):
    response = submit_checkout(shopper, checkout_token(shopper), {**customer, "postal_code": "9" * 21})

    assertContains(response, "Ensure this value has at most 20 characters", status_code=400)
    assert_nothing_ordered(product)


def test_a_form_error_keeps_the_same_token_so_the_resubmit_is_still_one_order(shopper, product, customer):
    token = checkout_token(shopper)

    refused = submit_checkout(shopper, token, {**customer, "email": "nope"})
    placed = submit_checkout(shopper, rendered_token(refused), customer)

    assert rendered_token(refused) == token
    assert placed.status_code == 302
    assert Order.objects.count() == 1


def tampered(token: str) -> str:
    """Change one character of the signed value (the part before the first colon)."""
    return ("B" if token[0] == "A" else "A") + token[1:]


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        (lambda monkeypatch, session: tampered(checkout_token_new(session)), NOT_VALID),
        (lambda monkeypatch, session: str(uuid.uuid4()), NOT_VALID),
        (lambda monkeypatch, session: "", "This field is required."),
        (lambda monkeypatch, session: "x" * 201, "Ensure this value has at most 200 characters"),
        (lambda monkeypatch, session: signing.dumps("not-a-uuid", salt=checkout_token_salt(session)), NOT_VALID),
        (lambda monkeypatch, session: signing.dumps(str(uuid.uuid4()), salt="another.salt"), NOT_VALID),
        (lambda monkeypatch, session: signing.dumps(str(uuid.uuid4()), salt=CHECKOUT_TOKEN_SALT), NOT_VALID),
        (lambda monkeypatch, session: checkout_token_new("another-visitors-session"), NOT_VALID),
        (expired_token, "This checkout page has expired. Please check your details and submit again."),
    ],
    ids=[
        "tampered",
        "unsigned",
        "empty",
        "too-long",
        "signed-garbage",
        "other-salt",
        "no-session-in-salt",
        "other-session",
        "expired",
    ],
)
def test_a_bad_token_is_refused_and_the_page_carries_a_fresh_valid_one(
    shopper, product, customer, monkeypatch, make_token, message
):
    bad_token = make_token(monkeypatch, shopper.session.session_key)

    response = submit_checkout(shopper, bad_token, customer)

    assertContains(response, message, status_code=400)
    assert_nothing_ordered(product)
    fresh = rendered_token(response)
    assert fresh != bad_token
    uuid.UUID(
        signing.loads(fresh, salt=checkout_token_salt(shopper.session.session_key), max_age=CHECKOUT_TOKEN_MAX_AGE)
    )
    assertContains(response, f'value="{fresh}"', status_code=400)


def test_after_a_bad_token_the_customer_can_submit_again_and_order(shopper, product, customer):
    refused = submit_checkout(shopper, tampered(checkout_token(shopper)), customer)

    placed = submit_checkout(shopper, rendered_token(refused), customer)

    assert placed.status_code == 302
    assert Order.objects.get().lines.get().quantity == 3
    assert Product.objects.get(pk=product.pk).stock == 7


def test_a_token_just_inside_its_lifetime_is_accepted(shopper, product, customer, monkeypatch):
    signed_at = time.time() - CHECKOUT_TOKEN_MAX_AGE + 60
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: signed_at)
        token = checkout_token_new(shopper.session.session_key)

    assert submit_checkout(shopper, token, customer).status_code == 302
    assert Order.objects.count() == 1


def test_checkout_with_an_emptied_cart_goes_back_to_the_cart_with_a_message(client, product):
    add_to_cart(client, product, 1)
    client.post(reverse("shop:cart_remove", args=[product.pk]))

    response = client.get(CHECKOUT)

    assertRedirects(response, reverse("shop:cart"), fetch_redirect_response=False)
    assertContains(client.get(reverse("shop:cart")), "Your cart is empty. Add something before checking out.")


def test_a_visitor_holding_nothing_gets_no_session_from_the_checkout_page(client):
    for _ in range(3):
        response = client.get(CHECKOUT)
        assertRedirects(response, reverse("shop:cart"), fetch_redirect_response=False)

    assert Session.objects.count() == 0
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("page", ["cart", "checkout", "order"])
def test_cart_checkout_and_order_pages_are_private_and_never_stored(shopper, product, customer, page):
    if page == "order":
        url = submit_checkout(shopper, checkout_token(shopper), customer)["Location"]
    else:
        url = reverse(f"shop:{page}")

    cache_control = {part.strip() for part in shopper.get(url)["Cache-Control"].split(",")}

    assert {"private", "no-store"} <= cache_control


def test_submitting_checkout_with_an_empty_cart_orders_nothing(client, customer):
    client.get(reverse("shop:cart"))  # a visitor with a session, holding nothing
    response = submit_checkout(client, checkout_token_new(client.session.session_key), customer)

    assertRedirects(response, reverse("shop:cart"))
    assert Order.objects.count() == 0


def test_a_checkout_replayed_from_another_browser_is_refused_and_shows_no_order(shopper, customer):
    token = checkout_token(shopper)
    placed = submit_checkout(shopper, token, customer)
    assert placed.status_code == 302

    stranger = Client()
    stranger.get(reverse("shop:cart"))
    replayed = submit_checkout(stranger, token, {**customer, "full_name": "Mallory", "email": "m@example.com"})

    assertContains(replayed, NOT_VALID, status_code=400)
    assertNotContains(replayed, customer["full_name"], status_code=400)
    assertNotContains(replayed, placed["Location"], status_code=400)
    assert Order.objects.count() == 1


# --- The order status page ------------------------------------------------------------------


@pytest.mark.parametrize("token", ["no-such-order", "x" * 500])
def test_an_unknown_order_link_is_not_found(client, token):
    response = client.get(reverse("shop:order", kwargs={"token": token}))

    assertContains(response, "Page not found", status_code=404)


def test_the_order_page_shows_number_lines_total_and_status(client, category):
    order = OrderFactory(status=Order.Status.CONFIRMED, total="47.30")
    towel = ProductFactory(category=category, name="Tea Towel")
    knife = ProductFactory(category=category, name="Bread Knife")
    OrderLineFactory(order=order, product=towel, unit_price="7.50", quantity=2)
    OrderLineFactory(order=order, product=knife, unit_price="32.30")

    response = client.get(order.get_absolute_url())

    assert response.status_code == 200
    assertContains(response, order.number)
    assertContains(response, "Tea Towel")
    assertContains(response, "€15.00")
    assertContains(response, "Bread Knife")
    assertContains(response, "€47.30")
    assertContains(response, "Your order is confirmed.")


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (Order.Status.PENDING, "We are taking your payment now"),
        (Order.Status.PAID, "Payment received."),
        (Order.Status.SHIPPED, "Your order is on its way."),
        (Order.Status.FAILED, "Your payment did not go through"),
    ],
)
def test_the_order_page_says_where_the_order_is(client, status, says):
    order = OrderFactory(status=status)

    assertContains(client.get(order.get_absolute_url()), says)


def test_one_orders_page_does_not_show_another_orders_details(client):
    mine = OrderFactory(full_name="Ann Lee")
    OrderFactory(full_name="Bob Stone")

    assertNotContains(client.get(mine.get_absolute_url()), "Bob Stone")


def test_a_demo_shop_says_on_checkout_that_no_card_is_charged(shopper, settings):
    assertContains(shopper.get(CHECKOUT), "Demo payments:")

    settings.SHOP_DEMO_PAYMENTS = False
    assertNotContains(shopper.get(CHECKOUT), "Demo payments:")
