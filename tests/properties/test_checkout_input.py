"""Checkout and order links: any form places one whole order, or is refused in words and orders nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from shop.forms import CheckoutForm
from shop.models import Order
from tests.conftest import CUSTOMER
from tests.factories import OrderLineFactory
from tests.properties.expect import ShopState, answered, example_rolled_back, posted
from tests.properties.strategies import any_text, form_value, path_segment
from tests.shop.helpers import add_to_cart, checkout_token

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("shop:checkout")
FIELDS = tuple(name for name in CheckoutForm.base_fields if name != "token")
TOKEN = "<the page's token>"  # stand-in: the real one exists only once the page is open


def field(name: str) -> st.SearchStrategy:
    """A customer's own value, or anything at all."""
    return st.one_of(st.just(CUSTOMER[name]), form_value)


checkout_forms = st.fixed_dictionaries(
    {}, optional={**{name: field(name) for name in FIELDS}, "token": st.one_of(st.just(TOKEN), form_value)}
)


def with_token(value, token: str):
    if isinstance(value, list):
        return [with_token(item, token) for item in value]
    return token if value == TOKEN else value


@given(form=checkout_forms)
@example(form={**CUSTOMER, "token": TOKEN})
@example(form={**CUSTOMER, "full_name": "Ann\x00Lee", "token": TOKEN})
@example(form={**CUSTOMER, "email": "ann@bücher.example", "token": TOKEN})
@example(form={**CUSTOMER, "city": "  ", "token": TOKEN})
@example(form={**CUSTOMER, "token": [TOKEN, "forged"]})
def test_checkout_with_any_form_places_one_whole_order_or_refuses_and_orders_nothing(product, form):
    with example_rolled_back():
        client = Client()
        add_to_cart(client, product, 3)
        token = checkout_token(client)
        form = {name: with_token(value, token) for name, value in form.items()}
        before = ShopState.of(client)

        response = client.post(CHECKOUT, form)

        expected = CheckoutForm(posted(form), session_key=client.session.session_key)
        if expected.is_valid():
            answered(response, 302)
            order = Order.objects.get()
            assert response["Location"] == order.get_absolute_url()
            assert [(line.product_id, line.quantity) for line in order.lines.all()] == [(product.pk, 3)]
            assert order.total == 3 * product.price
            assert {name: getattr(order, name) for name in FIELDS} == {
                name: expected.cleaned_data[name] for name in FIELDS
            }
            assert ShopState.of(client).stock == ((product.pk, 7),) and ShopState.of(client).cart == ()
        else:
            answered(response, 400)
            assert set(response.context["form"].errors) == set(expected.errors)
            assert ShopState.of(client) == before


@given(token=any_text)
@example(token="\x00")
@example(token="%00")
@example(token="a" * 64)
def test_any_order_link_is_the_order_or_a_404(token):
    with example_rolled_back():
        order = OrderLineFactory().order

        response = Client().get(f"/orders/{path_segment(token)}/")

        answered(response, 200 if token == order.access_token else 404)
