"""Cart add, change and remove: any form adds exactly what it says, or is refused in words and changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from shop.forms import AddToCartForm, CartQuantityForm
from tests.factories import ProductFactory
from tests.properties.expect import ShopState, answered, example_rolled_back, posted
from tests.properties.strategies import form_value, hostile
from tests.shop.helpers import add_to_cart

pytestmark = pytest.mark.django_db

CART_ADD = reverse("shop:cart_add")
IN_CART = 4  # boards already in the cart, of 10 on the shelf


@pytest.fixture
def withdrawn(category):
    return ProductFactory(category=category, is_active=False, stock=5)


# Stand-ins for ids known only once the fixtures exist: the board, and a product no longer sold.
BOARD, WITHDRAWN = "<board>", "<withdrawn>"
product_ids = st.one_of(st.sampled_from([BOARD, WITHDRAWN, "999999999", "0"]), hostile)


def optional(**fields) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional=fields)


def with_ids(form: dict, product, withdrawn) -> dict:
    ids = {BOARD: str(product.pk), WITHDRAWN: str(withdrawn.pk)}
    return {name: ids.get(value, value) if isinstance(value, str) else value for name, value in form.items()}


def shopper(product) -> Client:
    client = Client()
    add_to_cart(client, product, IN_CART)
    return client


def cleaned(form_class, data, field: str):
    form = form_class(posted(data))
    form.is_valid()
    return form.cleaned_data.get(field)


def says_why(response) -> None:
    """A refusal names its reason on the page (the cart's error, or the error page's message)."""
    answered(response, 400)
    assert response.context.get("cart_error") or response.context.get("message"), response.content[:300]


@given(form=optional(product_id=product_ids, quantity=form_value))
@example(form={"product_id": BOARD, "quantity": "\x00"})
@example(form={"product_id": WITHDRAWN, "quantity": "1"})
@example(form={"product_id": BOARD, "quantity": ["1", "99"]})
@example(form={"product_id": str(2**63), "quantity": "1"})
def test_adding_any_form_adds_exactly_its_quantity_or_refuses_in_words_and_changes_nothing(product, withdrawn, form):
    form = with_ids(form, product, withdrawn)
    with example_rolled_back():
        client = shopper(product)
        before = ShopState.of(client)

        response = client.post(CART_ADD, form)

        quantity = cleaned(AddToCartForm, form, "quantity")
        fits = quantity is not None and IN_CART + quantity <= min(product.stock, settings.SHOP_MAX_QUANTITY_PER_LINE)
        if fits and cleaned(AddToCartForm, form, "product_id") == product.pk:
            answered(response, 302)
            assert ShopState.of(client).cart == ((product.pk, IN_CART + quantity),)
        else:
            says_why(response)
            assert ShopState.of(client) == before


@given(product_id=st.one_of(st.integers(min_value=0), st.just(None)), quantity=form_value)
@example(product_id=10**30, quantity="1")
@example(product_id=None, quantity="")
def test_changing_a_quantity_to_anything_sets_it_or_refuses_and_changes_nothing(product, product_id, quantity):
    with example_rolled_back():
        client = shopper(product)
        before = ShopState.of(client)
        target = product.pk if product_id is None else product_id

        response = client.post(reverse("shop:cart_update", args=[target]), {"quantity": quantity})

        new = cleaned(CartQuantityForm, {"quantity": quantity}, "quantity")
        if target == product.pk and new is not None and new <= product.stock:
            answered(response, 302)
            assert ShopState.of(client).cart == ((product.pk, new),)
        else:
            says_why(response)
            assert ShopState.of(client) == before


@given(product_id=st.integers(min_value=0), form=optional(quantity=form_value, product_id=form_value))
@example(product_id=2**64, form={})
def test_removing_any_product_id_removes_that_line_only(product, product_id, form):
    with example_rolled_back():
        client = shopper(product)

        response = client.post(reverse("shop:cart_remove", args=[product_id]), form)

        answered(response, 302)
        expected = () if product_id == product.pk else ((product.pk, IN_CART),)
        assert ShopState.of(client).cart == expected


@given(
    path=st.sampled_from([CART_ADD, "/cart/{board}/quantity/", reverse("shop:checkout")]),
    form=optional(product_id=product_ids, quantity=form_value),
)
def test_a_cart_or_checkout_form_without_its_csrf_token_is_a_403_whatever_it_holds(product, withdrawn, path, form):
    form, path = with_ids(form, product, withdrawn), path.format(board=product.pk)
    with example_rolled_back():
        client = shopper(product)
        guarded = Client(enforce_csrf_checks=True)
        guarded.cookies = client.cookies
        before = ShopState.of(client)

        response = guarded.post(path, form)

        answered(response, 403)
        assert ShopState.of(client) == before


@given(method=st.sampled_from(["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]), body=hostile)
def test_the_cart_answers_a_wrong_method_with_a_405_and_changes_nothing(product, method, body):
    with example_rolled_back():
        client = shopper(product)
        before = ShopState.of(client)

        for path in (
            CART_ADD,
            reverse("shop:cart_update", args=[product.pk]),
            reverse("shop:cart_remove", args=[product.pk]),
        ):
            answered(client.generic(method, path, body), 405)

        assert ShopState.of(client) == before
