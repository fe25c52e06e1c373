"""A customer's steps through a stack's nginx, for the stack tests: loadtest/customer.py's Customer."""

from __future__ import annotations

import requests

from loadtest.customer import Customer
from loadtest.pages import PRODUCT_ID, PRODUCT_LINK
from tests.conftest import CUSTOMER


def get(url: str, customer: Customer | None = None, **options) -> requests.Response:
    """GET ``url`` once (no line followed, nothing retried), as ``customer`` or as anyone, who closes the connection."""
    if customer is None:
        customer = Customer()
        options["headers"] = {"Connection": "close", **options.get("headers", {})}
    return customer.send("GET", url, label="GET", **options)


def shopper_with_a_cart(base_url: str) -> Customer:
    """A customer who put a kitchen product in the cart: they hold a session."""
    customer = Customer(base_url)
    product_path = PRODUCT_LINK.search(customer.page("/category/kitchen/")).group(1)
    customer.add_to_cart(PRODUCT_ID.search(customer.page(product_path)).group(1))
    return customer


def place_order(base_url: str) -> Customer:
    """A customer who bought one kitchen product as a browser would; their order is at ``order_url``."""
    customer = shopper_with_a_cart(base_url)
    outcome = customer.place_order(customer.checkout_form(), details=CUSTOMER, read_order=False)
    assert outcome == "order", outcome
    return customer
