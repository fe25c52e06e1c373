"""Checkout: write the order and reserve its stock in one transaction.

Safe to call twice with the same idempotency key (a double click, a retry after a
timeout, two concurrent submits): the second call returns the first call's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import partial
from uuid import UUID

from django.db import IntegrityError, transaction

from shop.metrics import CHECKOUT_LATENCY, ORDERS_CREATED
from shop.models import Order, OrderLine, Product
from shop.selectors import cart_fingerprint, order_get_by_idempotency_key
from shop.services.orders import order_queue_processing
from shop.services.stock import OutOfStock, stock_reserve

__all__ = ["CheckoutConflict", "CustomerDetails", "EmptyCart", "OutOfStock", "order_place"]


class EmptyCart(Exception):
    def __init__(self) -> None:
        super().__init__("Your cart is empty.")


class CheckoutConflict(Exception):
    """The idempotency key was already used for a different cart."""

    def __init__(self, order: Order) -> None:
        self.order = order
        super().__init__(
            f"This checkout form was already used for order {order.number}, with a different cart. "
            "Please review your cart and check out again."
        )


@dataclass(frozen=True)
class CustomerDetails:
    email: str
    full_name: str
    address: str
    postal_code: str
    city: str
    country: str


def _existing_order(*, idempotency_key: UUID, fingerprint: str, has_cart: bool) -> Order | None:
    order = order_get_by_idempotency_key(key=idempotency_key)
    # An empty cart is an honest replay: the first submit emptied it.
    if order is not None and has_cart and order.cart_fingerprint != fingerprint:
        raise CheckoutConflict(order)
    return order


@CHECKOUT_LATENCY.time()
def order_place(*, idempotency_key: UUID, cart: Mapping[int, int], customer: CustomerDetails) -> Order:
    """Create a pending order for ``cart`` and reserve its stock, or return the order made earlier with this key."""
    fingerprint = cart_fingerprint(cart)
    existing = _existing_order(idempotency_key=idempotency_key, fingerprint=fingerprint, has_cart=bool(cart))
    if existing is not None:
        return existing
    if not cart:
        raise EmptyCart()
    try:
        return _create_order(idempotency_key=idempotency_key, cart=cart, customer=customer, fingerprint=fingerprint)
    except IntegrityError:
        # A concurrent submit with the same key won the insert; hand back its order.
        existing = _existing_order(idempotency_key=idempotency_key, fingerprint=fingerprint, has_cart=True)
        if existing is None:
            raise
        return existing


@transaction.atomic
def _create_order(
    *, idempotency_key: UUID, cart: Mapping[int, int], customer: CustomerDetails, fingerprint: str
) -> Order:
    products = Product.objects.in_bulk(list(cart))
    missing = set(cart) - set(products)
    if missing:
        raise OutOfStock(product_name="A product in your cart", available=0)
    lines = [
        OrderLine(product=products[pid], product_name=products[pid].name, unit_price=products[pid].price, quantity=qty)
        for pid, qty in sorted(cart.items())
    ]
    order = Order.objects.create(
        idempotency_key=idempotency_key,
        cart_fingerprint=fingerprint,
        total=sum(line.line_total for line in lines),
        currency=lines[0].product.currency,
        **asdict(customer),
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    # Stock last: a spike's buyers all want the same product, and each waits for its row's lock
    # until the holder commits, so nothing else is written while holding it. In product-id
    # order, so concurrent checkouts lock rows in one order (no deadlocks).
    for line in lines:
        stock_reserve(product_id=line.product_id, quantity=line.quantity)
    transaction.on_commit(ORDERS_CREATED.inc)
    transaction.on_commit(partial(order_queue_processing, order_id=order.pk))
    return order
