"""Checkout in the browser: one order per checkout form, and the cart is where a refusal lands."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shop.models import Order, Product
from tests.factories import ProductFactory
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout


@pytest.mark.django_db
def test_double_clicking_place_order_in_the_browser_makes_one_order(client, product, customer):
    add_to_cart(client, product, 2)
    token = checkout_token(client)

    first = submit_checkout(client, token, customer)
    second = submit_checkout(client, token, customer)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == Order.objects.get().get_absolute_url()
    assert client.get(reverse("shop:cart")).context["cart"].lines == []


@pytest.mark.django_db
def test_a_checkout_form_replayed_with_another_cart_is_refused(client, product, category, customer):
    add_to_cart(client, product, 1)
    token = checkout_token(client)
    submit_checkout(client, token, customer)
    add_to_cart(client, ProductFactory(category=category), 1)

    response = submit_checkout(client, token, customer)

    assert response.status_code == 409
    assert "different cart" in response.content.decode()
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_checkout_of_a_sold_out_item_returns_to_the_cart_naming_it_and_keeps_the_cart(client, product, customer):
    add_to_cart(client, product, 3)
    token = checkout_token(client)
    Product.objects.filter(pk=product.pk).update(stock=1)

    response = submit_checkout(client, token, customer)

    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    page = client.get(reverse("shop:cart")).content.decode()
    assert "Only 1 of “Oak Cutting Board” left" in page
    assert Order.objects.count() == 0
    assert client.get(reverse("shop:cart")).context["cart"].quantities == {product.pk: 3}
