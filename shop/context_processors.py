"""What every storefront page needs: the shop's name, category navigation, the cart badge."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from resilience.caching import CacheUnavailable, namespace_version
from shop.selectors import CATALOG, cart_item_count, category_list

logger = logging.getLogger(__name__)


def _navigation_categories() -> list:
    try:
        return category_list()
    except DatabaseError:
        # Navigation is decoration: a page must not fail because of it.
        logger.warning("Category navigation unavailable", exc_info=True)
        return []


def _catalog_version() -> int | None:
    # Part of every catalog fragment's cache key: an edit makes them all new.
    try:
        return namespace_version(CATALOG)
    except CacheUnavailable:
        return None


def storefront(request: HttpRequest) -> dict[str, Any]:
    session = getattr(request, "session", None)
    return {
        "shop_name": settings.SHOP_NAME,
        "max_quantity": settings.SHOP_MAX_QUANTITY_PER_LINE,
        "nav_categories": SimpleLazyObject(_navigation_categories),
        "catalog_version": SimpleLazyObject(_catalog_version),
        "cart_count": SimpleLazyObject(lambda: cart_item_count(session) if session is not None else 0),
    }
