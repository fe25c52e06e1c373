"""Outages: without Redis the shop serves from the database; without the database it serves
what it has cached and refuses writes with a clear 503, half-writing nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY

from shop.models import Order, Product
from tests.factories import ProductFactory
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

CATALOG = reverse("shop:product_list")


def cache_errors() -> float:
    return sum(
        REGISTRY.get_sample_value("stampede_cache_errors_total", {"reason": reason}) or 0
        for reason in ("error", "circuit_open")
    )


@pytest.mark.django_db
def test_with_redis_down_customers_still_browse_and_check_out(client, category, customer, private_redis):
    board = ProductFactory(category=category, name="Walnut Serving Board", stock=3)
    client.get(CATALOG)  # warm caches that are about to disappear
    errors_before = cache_errors()

    private_redis.stop()

    assert "Walnut Serving Board" in client.get(CATALOG).content.decode()
    assert client.get(board.get_absolute_url()).status_code == 200
    add_to_cart(client, board, 2)
    response = submit_checkout(client, checkout_token(client), customer)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert Product.objects.get(pk=board.pk).stock == 1
    assert cache_errors() > errors_before


@pytest.fixture
def warm_shop(transactional_db, category):
    """A product, its pages already cached, and a customer with it in the cart."""
    board = ProductFactory(category=category, name="Walnut Serving Board", stock=3)
    visitor = Client(raise_request_exception=False)
    catalog_page = visitor.get(CATALOG).content
    product_page = visitor.get(board.get_absolute_url()).content
    add_to_cart(visitor, board, 1)
    token = checkout_token(visitor)
    return board, visitor, catalog_page, product_page, token


def test_with_the_database_down_warm_catalog_pages_are_still_served(warm_shop, database_down):
    board, visitor, catalog_page, product_page, _ = warm_shop

    assert visitor.get(CATALOG).content == catalog_page
    assert visitor.get(board.get_absolute_url()).content == product_page
    assert Client().get(CATALOG).status_code == 200  # a new visitor too


@pytest.mark.parametrize("write", ["add to cart", "change quantity", "check out"])
def test_with_the_database_down_cart_writes_and_checkout_answer_503_and_write_nothing(
    warm_shop, database_down, customer, write
):
    board, visitor, _, _, token = warm_shop

    if write == "add to cart":
        response = add_to_cart(visitor, board, 1)
    elif write == "change quantity":
        response = visitor.post(reverse("shop:cart_update", args=[board.pk]), {"quantity": 2})
    else:
        response = submit_checkout(visitor, token, customer)

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "your cart is as you left it" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    database_down()  # the database is back: nothing was half-written
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=board.pk).stock == 3
    assert visitor.get(reverse("shop:cart")).context["cart"].quantities == {board.pk: 1}


def test_with_the_database_down_a_page_never_cached_answers_503(warm_shop, database_down, category):
    _, visitor, _, _, _ = warm_shop

    response = visitor.get(CATALOG, {"q": "never searched before"})

    assert response.status_code == 503 and "Retry-After" in response
