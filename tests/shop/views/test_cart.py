"""The session cart: add, change, remove; every bad input is refused in words and changes nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from shop.selectors import cart_quantities
from tests.factories import ProductFactory
from tests.shop.helpers import add_to_cart

pytestmark = pytest.mark.django_db

CART = reverse("shop:cart")
CART_ADD = reverse("shop:cart_add")


def cart_of(client: Client) -> dict[int, int]:
    """Return what the session cart holds, read from the session store: product id -> quantity."""
    return cart_quantities(client.session)


def update_quantity(client: Client, product_id, quantity):
    return client.post(reverse("shop:cart_update", kwargs={"product_id": product_id}), {"quantity": quantity})


def test_adding_a_product_puts_it_in_the_cart_and_says_so(client, product):
    response = add_to_cart(client, product, 2)

    assert response.status_code == 302 and response["Location"] == CART
    assert cart_of(client) == {product.pk: 2}
    assertContains(client.get(CART), "Added 2 × Oak Cutting Board to your cart.")


def test_adding_the_same_product_again_adds_to_its_quantity(client, product):
    add_to_cart(client, product, 2)
    add_to_cart(client, product, 3)

    assert cart_of(client) == {product.pk: 5}


def test_changing_the_quantity_replaces_it(client, product):
    add_to_cart(client, product, 2)

    response = update_quantity(client, product.pk, 7)

    assert response.status_code == 302 and response["Location"] == CART
    assert cart_of(client) == {product.pk: 7}


def test_removing_a_product_takes_it_out_of_the_cart(client, product, category):
    other = ProductFactory(category=category)
    add_to_cart(client, product, 2)
    add_to_cart(client, other, 1)

    response = client.post(reverse("shop:cart_remove", kwargs={"product_id": product.pk}))

    assert response.status_code == 302
    assert cart_of(client) == {other.pk: 1}


def test_removing_a_product_that_is_not_in_the_cart_changes_nothing(client, product):
    add_to_cart(client, product, 2)

    response = client.post(reverse("shop:cart_remove", kwargs={"product_id": product.pk + 1000}))

    assert response.status_code == 302
    assert cart_of(client) == {product.pk: 2}


def test_cart_totals_are_exact_decimals(client, category):
    dime = ProductFactory(category=category, price=Decimal("0.10"))
    fifth = ProductFactory(category=category, price=Decimal("0.20"))
    add_to_cart(client, dime, 3)
    add_to_cart(client, fifth, 1)

    cart = client.get(CART).context["cart"]

    # 0.1 * 3 + 0.2 in binary floating point is 0.5000000000000001
    assert cart.total == Decimal("0.50") and isinstance(cart.total, Decimal)
    assert [line.line_total for line in cart.lines] == [Decimal("0.30"), Decimal("0.20")]
    assert cart.item_count == 4
    assertContains(client.get(CART), "€0.50")


def test_a_product_withdrawn_from_sale_drops_out_of_the_cart_total(client, product, category):
    other = ProductFactory(category=category, price=Decimal("5.00"))
    add_to_cart(client, product, 1)
    add_to_cart(client, other, 2)
    product.is_active = False
    product.save()

    cart = client.get(CART).context["cart"]

    assert [line.product for line in cart.lines] == [other]
    assert cart.total == Decimal("10.00")


# --- Bad input: a 4xx with a message, and the cart exactly as it was ----------------------------


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "The quantity must be at least 1."),
        ("0", "The quantity must be at least 1."),
        (str(10**30), "You can buy at most 20 of one product per order."),
        ("9" * 5000, "Enter the quantity as a whole number."),
        ("abc", "Enter the quantity as a whole number."),
        ("1.5", "Enter the quantity as a whole number."),
        ("", "Enter a quantity."),
        ("21", "You can buy at most 20 of one product per order."),
    ],
    ids=["negative", "zero", "huge", "thousands-of-digits", "word", "fraction", "empty", "over-line-limit"],
)
def test_a_bad_quantity_is_refused_and_the_cart_is_unchanged(client, product, quantity, message):
    add_to_cart(client, product, 2)

    added = client.post(CART_ADD, {"product_id": product.pk, "quantity": quantity})
    updated = update_quantity(client, product.pk, quantity)

    assertContains(added, message, status_code=400)
    assertContains(updated, message, status_code=400)
    assert cart_of(client) == {product.pk: 2}


def test_adding_more_than_is_in_stock_is_refused_naming_the_product(client, product):
    add_to_cart(client, product, 2)

    response = add_to_cart(client, product, 9)

    assertContains(response, "Only 10 of “Oak Cutting Board” left in stock.", status_code=400)
    assert cart_of(client) == {product.pk: 2}


def test_setting_a_quantity_above_stock_is_refused(client, product):
    add_to_cart(client, product, 2)

    response = update_quantity(client, product.pk, 11)

    assertContains(response, "Only 10 of “Oak Cutting Board” left in stock.", status_code=400)
    assert cart_of(client) == {product.pk: 2}


def test_adding_a_sold_out_product_is_refused(client, category):
    sold_out = ProductFactory(category=category, name="Copper Kettle", stock=0)

    response = add_to_cart(client, sold_out, 1)

    assertContains(response, "Sorry, “Copper Kettle” is out of stock.", status_code=400)
    assert cart_of(client) == {}


def test_adds_that_together_pass_the_per_line_limit_are_refused(client, category):
    plenty = ProductFactory(category=category, name="Tea Towel", stock=100)
    add_to_cart(client, plenty, 15)

    response = add_to_cart(client, plenty, 6)

    assertContains(response, "You can buy at most 20 of “Tea Towel” per order.", status_code=400)
    assert cart_of(client) == {plenty.pk: 15}


def test_the_per_line_limit_follows_the_setting(client, product, settings):
    settings.SHOP_MAX_QUANTITY_PER_LINE = 3

    response = add_to_cart(client, product, 4)

    assertContains(response, "You can buy at most 3 of", status_code=400)
    assert cart_of(client) == {}


@pytest.mark.parametrize(
    ("product_id", "message"),
    [
        ("999999", "That product does not exist or is no longer sold."),
        ("abc", "Unknown product."),
        ("", "Unknown product."),
        ("-5", "Unknown product."),
        (str(10**30), "Unknown product."),
    ],
    ids=["unknown", "word", "empty", "negative", "huge"],
)
def test_an_unknown_or_malformed_product_id_is_refused(client, product, product_id, message):
    add_to_cart(client, product, 2)

    response = client.post(CART_ADD, {"product_id": product_id, "quantity": 1})

    assertContains(response, message, status_code=400)
    assertNotContains(response, "Traceback", status_code=400)
    assert cart_of(client) == {product.pk: 2}


def test_an_inactive_product_cannot_be_added(client, product, category):
    retired = ProductFactory(category=category, is_active=False)
    add_to_cart(client, product, 2)

    response = add_to_cart(client, retired, 1)

    assertContains(response, "That product does not exist or is no longer sold.", status_code=400)
    assert cart_of(client) == {product.pk: 2}


def test_changing_the_quantity_of_a_product_not_in_the_cart_is_refused(client, product, category):
    other = ProductFactory(category=category, name="Saucepan")
    add_to_cart(client, product, 2)

    response = update_quantity(client, other.pk, 1)

    assertContains(response, "“Saucepan” is not in your cart.", status_code=400)
    assert cart_of(client) == {product.pk: 2}


@pytest.mark.parametrize("product_id", ["999999", str(10**30)], ids=["unknown", "beyond-bigint"])
def test_changing_the_quantity_of_an_unknown_product_is_refused(client, product, product_id):
    add_to_cart(client, product, 2)

    response = update_quantity(client, product_id, 1)

    assertContains(response, "That product does not exist or is no longer sold.", status_code=400)
    assert cart_of(client) == {product.pk: 2}


def browser_with_cart(product) -> Client:
    """A browser that enforces CSRF, holding 2 of ``product``, token fetched as the page's script does."""
    browser = Client(enforce_csrf_checks=True)
    token = browser.get(reverse("shop:cart_state")).json()["csrfToken"]
    browser.post(CART_ADD, {"product_id": product.pk, "quantity": 2, "csrfmiddlewaretoken": token})
    assert cart_of(browser) == {product.pk: 2}
    return browser


def test_a_cart_change_without_a_csrf_token_is_refused_with_the_shops_page(product):
    browser = browser_with_cart(product)

    forged = browser.post(reverse("shop:cart_update", args=[product.pk]), {"quantity": 5})

    assertContains(forged, "Please go back, reload the page and try again.", status_code=403)
    assert "shop/error.html" in [template.name for template in forged.templates]
    assert cart_of(browser) == {product.pk: 2}


def test_add_to_cart_without_a_token_asks_to_confirm_and_changes_nothing(product):
    # The product page is cached for everyone; without JavaScript its form has no token.
    browser = browser_with_cart(product)

    unconfirmed = browser.post(CART_ADD, {"product_id": product.pk, "quantity": 3})

    assertContains(unconfirmed, f"Add 3 × {product.name} to your cart?", status_code=403)
    assert cart_of(browser) == {product.pk: 2}
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', unconfirmed.content.decode()).group(1)
    browser.post(CART_ADD, {"product_id": product.pk, "quantity": 3, "csrfmiddlewaretoken": token})
    assert cart_of(browser) == {product.pk: 5}


@pytest.mark.parametrize(
    "url", [CART_ADD, reverse("shop:cart_update", args=[1]), reverse("shop:cart_remove", args=[1])]
)
def test_get_on_a_cart_action_is_not_allowed(client, product, url):
    add_to_cart(client, product, 2)

    response = client.get(url)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert cart_of(client) == {product.pk: 2}


# --- The cart lives in the database-backed session ------------------------------------------


def test_the_cart_survives_the_cache_being_wiped(client, product):
    add_to_cart(client, product, 2)

    cache.delete_pattern("*")

    assert [(line.product, line.quantity) for line in client.get(CART).context["cart"].lines] == [(product, 2)]


def test_the_cart_survives_redis_being_down_and_can_still_change(client, product, private_redis):
    add_to_cart(client, product, 2)

    private_redis.stop()

    assert cart_of(client) == {product.pk: 2}
    add_to_cart(client, product, 1)
    assert [(line.product, line.quantity) for line in client.get(CART).context["cart"].lines] == [(product, 3)]
