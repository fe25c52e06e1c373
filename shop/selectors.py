"""Reads: catalog queries, the cart as the customer sees it, orders by their links."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Q, QuerySet

from shop.models import Category, Order, Product

CART_SESSION_KEY = "cart"
SORT_ORDERS = {
    "name": ("name", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "id"),
    "newest": ("-created_at", "-id"),
}


def category_list() -> list[Category]:
    """Return every category, for navigation."""
    return list(Category.objects.only("id", "name", "slug"))


def category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def product_list(*, category: Category | None = None, query: str = "", sort: str = "name") -> QuerySet[Product]:
    """Return active products, optionally in one category or matching a search query."""
    products = Product.objects.filter(is_active=True).select_related("category")
    if category is not None:
        products = products.filter(category=category)
    for word in query.split()[:8]:
        products = products.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return products.order_by(*SORT_ORDERS.get(sort, SORT_ORDERS["name"]))


def product_get(*, slug: str) -> Product | None:
    return Product.objects.select_related("category").filter(slug=slug, is_active=True).first()


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


def cart_item_count(session: SessionBase) -> int:
    """Return how many items the cart holds, without touching the database."""
    return sum(cart_quantities(session).values())


def order_get_by_token(*, token: str) -> Order | None:
    return Order.objects.prefetch_related("lines").filter(access_token=token).first()


def order_get_by_idempotency_key(*, key: UUID) -> Order | None:
    return Order.objects.filter(idempotency_key=key).first()
