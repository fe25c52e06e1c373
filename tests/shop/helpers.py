"""Small helpers that make the storefront tests read like a customer's steps."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

TOKEN_PATTERN = re.compile(r'name="token" value="([^"]+)"')


def add_to_cart(client: Client, product, quantity: int = 1):
    return client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": quantity})


def checkout_token(client: Client) -> str:
    """Open the checkout page and return the idempotency token its form carries."""
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200, page.status_code
    return TOKEN_PATTERN.search(page.content.decode()).group(1)


def submit_checkout(client: Client, token: str, customer: dict[str, str]):
    return client.post(reverse("shop:checkout"), {**customer, "token": token})


def product_change_form(product, **changes) -> dict:
    """The admin's product change form as the browser would post it, with ``changes`` applied."""
    return {
        "category": product.category_id,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "price": product.price,
        "currency": product.currency,
        "is_active": "on",
        "stock_adjustment": 0,
        **changes,
    }
