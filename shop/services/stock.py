"""Stock reservation: conditional updates that can never drive stock below zero."""

from __future__ import annotations

from django.db.models import F

from resilience.caching import namespace_bump
from shop.models import Product
from shop.selectors import CATALOG


class OutOfStock(Exception):
    def __init__(self, *, product_name: str, available: int) -> None:
        self.product_name = product_name
        self.available = available
        if available > 0:
            message = f"Only {available} of “{product_name}” left in stock. Please lower the quantity."
        else:
            message = f"“{product_name}” has just sold out. Please remove it from your cart."
        super().__init__(message)


def stock_reserve(*, product_id: int, quantity: int) -> None:
    """Take ``quantity`` units off the shelf, or raise OutOfStock and change nothing."""
    updated = Product.objects.filter(pk=product_id, is_active=True, stock__gte=quantity).update(
        stock=F("stock") - quantity
    )
    if not updated:
        product = Product.objects.filter(pk=product_id).values("name", "stock", "is_active").first()
        if product is None:
            raise OutOfStock(product_name="This product", available=0)
        raise OutOfStock(product_name=product["name"], available=product["stock"] if product["is_active"] else 0)
    if Product.objects.filter(pk=product_id, stock=0).exists():
        # Sold out: the catalog must stop offering it now, not when its cache expires.
        namespace_bump(CATALOG)


def stock_release(*, product_id: int, quantity: int) -> None:
    """Put ``quantity`` reserved units back on the shelf."""
    Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)
    if Product.objects.filter(pk=product_id, stock=quantity).exists():
        namespace_bump(CATALOG)  # back in stock after being sold out


def stock_adjust(*, product_id: int, delta: int) -> bool:
    """Add (or with a negative delta, remove) units; False if that would go below zero."""
    return bool(Product.objects.filter(pk=product_id, stock__gte=-delta).update(stock=F("stock") + delta))
