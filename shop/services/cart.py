"""Cart writes. The cart lives in the session (database-backed), so it survives a cache outage."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError

from shop.models import Product
from shop.selectors import CART_SESSION_KEY, cart_quantities


def _save(session: SessionBase, quantities: dict[int, int]) -> None:
    # JSON session keys are strings; store them as such so reads round-trip.
    session[CART_SESSION_KEY] = {str(pid): qty for pid, qty in quantities.items()}


def _check_quantity(*, product: Product, quantity: int) -> None:
    limit = settings.SHOP_MAX_QUANTITY_PER_LINE
    if quantity > limit:
        raise ValidationError(f"You can buy at most {limit} of “{product.name}” per order.")
    if quantity > product.stock:
        if product.stock == 0:
            raise ValidationError(f"Sorry, “{product.name}” is out of stock.")
        raise ValidationError(f"Only {product.stock} of “{product.name}” left in stock.")


def cart_add(*, session: SessionBase, product: Product, quantity: int) -> int:
    """Add ``quantity`` of a product; return the new quantity in the cart."""
    quantities = cart_quantities(session)
    new_quantity = quantities.get(product.pk, 0) + quantity
    _check_quantity(product=product, quantity=new_quantity)
    quantities[product.pk] = new_quantity
    _save(session, quantities)
    return new_quantity


def cart_set_quantity(*, session: SessionBase, product: Product, quantity: int) -> None:
    """Set the quantity of a product already in the cart."""
    quantities = cart_quantities(session)
    if product.pk not in quantities:
        raise ValidationError(f"“{product.name}” is not in your cart.")
    _check_quantity(product=product, quantity=quantity)
    quantities[product.pk] = quantity
    _save(session, quantities)


def cart_remove(*, session: SessionBase, product_id: int) -> None:
    """Remove a product from the cart; removing one that is not there changes nothing."""
    quantities = cart_quantities(session)
    if quantities.pop(product_id, None) is not None:
        _save(session, quantities)


def cart_clear(*, session: SessionBase) -> None:
    session.pop(CART_SESSION_KEY, None)
