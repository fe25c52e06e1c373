"""Cart reads: the cart as stored in the session and as the customer sees it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from shop.models import Product

CART_SESSION_KEY = "cart"


def cart_quantities(session: SessionBase) -> dict[int, int]:
    """Return the cart as stored in the session: product id -> quantity."""
    stored = session.get(CART_SESSION_KEY, {})
    return {int(product_id): int(quantity) for product_id, quantity in stored.items()}


def cart_fingerprint(quantities: Mapping[int, int]) -> str:
    """Return a stable digest of a cart's contents."""
    canonical = ",".join(f"{pid}:{qty}" for pid, qty in sorted(quantities.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def currency(self) -> str:
        return self.lines[0].product.currency if self.lines else ""

    @property
    def quantities(self) -> dict[int, int]:
        return {line.product.pk: line.quantity for line in self.lines}


def cart_get(session: SessionBase) -> Cart:
    """Return the cart with its products, in one query; products no longer sold drop out."""
    quantities = cart_quantities(session)
    if not quantities:
        return Cart(lines=[])
    products = Product.objects.filter(pk__in=quantities, is_active=True).select_related("category").in_bulk()
    lines = [CartLine(product=products[pid], quantity=qty) for pid, qty in quantities.items() if pid in products]
    return Cart(lines=lines)


def visitor_holds_cart(request: HttpRequest) -> bool:
    """True if the visitor has something in their cart (the waiting room lets them through)."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES and bool(cart_quantities(request.session))


def cart_item_count(session: SessionBase) -> int:
    """Return how many items the cart holds, without touching the database."""
    return sum(cart_quantities(session).values())
