"""Catalog writes: a product edited by staff, its stock adjusted in the same transaction."""

from __future__ import annotations

from django.db import transaction

from shop.models import Product
from shop.services.stock import stock_adjust


@transaction.atomic
def product_save(*, product: Product, changed_fields: list[str] | None, stock_delta: int) -> bool:
    """Save a product (every field of a new one; ``changed_fields`` of an existing one) and add
    ``stock_delta`` units to its shelf, in one transaction.

    Stock is never written with the product: only ``stock_adjust``'s conditional update moves it,
    so an edit made while customers buy cannot overwrite their reservations. Returns False, the
    rest saved, if the adjustment would take the stock below zero.
    """
    if changed_fields is None:
        product.save()
    else:
        product.save(update_fields=[*(name for name in changed_fields if name != "stock"), "updated_at"])
    return not stock_delta or stock_adjust(product_id=product.pk, delta=stock_delta)
