"""Reads: catalog queries (catalog.py), the cart as the customer sees it (cart.py), orders by their links (orders.py).

Import them from here (``from shop import selectors``); settings name ``shop.selectors.visitor_holds_cart``.
"""

from __future__ import annotations

from shop.selectors.cart import (
    CART_SESSION_KEY,
    Cart,
    CartLine,
    cart_fingerprint,
    cart_get,
    cart_item_count,
    cart_quantities,
    visitor_holds_cart,
)
from shop.selectors.catalog import (
    CATALOG,
    SORT_ORDERS,
    ProductCard,
    ProductPage,
    category_get,
    category_list,
    product_get,
    product_get_by_id,
    product_list,
    product_page,
)
from shop.selectors.orders import order_get_by_idempotency_key, order_get_by_token

__all__ = [
    "CART_SESSION_KEY",
    "CATALOG",
    "SORT_ORDERS",
    "Cart",
    "CartLine",
    "ProductCard",
    "ProductPage",
    "cart_fingerprint",
    "cart_get",
    "cart_item_count",
    "cart_quantities",
    "category_get",
    "category_list",
    "order_get_by_idempotency_key",
    "order_get_by_token",
    "product_get",
    "product_get_by_id",
    "product_list",
    "product_page",
    "visitor_holds_cart",
]
