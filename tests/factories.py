"""factory_boy factories for the shop's models."""

from __future__ import annotations

import uuid
from decimal import Decimal

import factory

from shop.models import Category, Order, OrderLine, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A sturdy thing."
    price = Decimal("19.90")
    stock = 10


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    idempotency_key = factory.LazyFunction(uuid.uuid4)
    cart_fingerprint = "0" * 64
    email = "ann@example.com"
    full_name = "Ann Lee"
    address = "1 Main Street"
    postal_code = "1011 AB"
    city = "Amsterdam"
    country = "Netherlands"
    total = Decimal("19.90")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.SelfAttribute("product.name")
    unit_price = factory.SelfAttribute("product.price")
    quantity = 1
