"""Catalog edits invalidate every cached catalog read and page, once they commit."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from resilience.caching import namespace_bump
from shop.models import Category, Product
from shop.selectors import CATALOG


@receiver([post_save, post_delete], sender=Product, dispatch_uid="shop.catalog_changed.product")
@receiver([post_save, post_delete], sender=Category, dispatch_uid="shop.catalog_changed.category")
def catalog_changed(**kwargs) -> None:
    namespace_bump(CATALOG)
