"""Catalog and orders.

Stock is only ever changed by conditional ``F()`` updates (see services/stock.py);
the CHECK constraint on it is the last line of defence against overselling.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse

# Crockford's base32 without look-alikes: easy to read out over the phone.
ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def default_currency() -> str:
    return settings.SHOP_CURRENCY


def new_order_number() -> str:
    """Return a human-friendly order number such as ``SP-7K3M-9QXD``."""
    chars = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))
    return f"SP-{chars[:4]}-{chars[4:]}"


def new_access_token() -> str:
    """Return the unguessable token that names an order's status page."""
    return secrets.token_urlsafe(24)


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:category", kwargs={"slug": self.slug})


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, default=default_currency)
    stock = models.IntegerField(default=0, help_text="Units on hand and not reserved by an order.")
    is_active = models.BooleanField(default=True, db_index=True)
    image = models.ImageField(upload_to="products/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["category", "is_active", "name"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product", kwargs={"slug": self.slug})

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def image_url(self) -> str:
        return self.image.url if self.image else ""


class OrderQuerySet(models.QuerySet):
    def unsettled(self) -> OrderQuerySet:
        """Orders the worker still has to charge or confirm."""
        return self.filter(status__in=[Order.Status.PENDING, Order.Status.PAID])

    def unattended(self) -> OrderQuerySet:
        """Unsettled orders nobody is working on: the lease lapsed, or no one took one for a while."""
        # The database's clock, as for the claims, so workers' clocks never matter.
        unclaimed_since = Now() - timedelta(seconds=settings.SHOP_ORDER_UNCLAIMED_AFTER_SECONDS)
        return self.unsettled().filter(
            models.Q(lease_until__lt=Now()) | models.Q(lease_until__isnull=True, created_at__lt=unclaimed_since)
        )


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PAID = "paid", "Paid"
        CONFIRMED = "confirmed", "Confirmed"
        SHIPPED = "shipped", "Shipped"
        FAILED = "failed", "Payment failed"

    number = models.CharField(max_length=16, unique=True, default=new_order_number, editable=False)
    access_token = models.CharField(max_length=64, unique=True, default=new_access_token, editable=False)
    idempotency_key = models.UUIDField(unique=True, editable=False)
    # What the customer's cart held when they submitted, so a replayed key with another
    # cart can be told apart from an honest retry.
    cart_fingerprint = models.CharField(max_length=64, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    email = models.EmailField()
    full_name = models.CharField(max_length=200)
    address = models.TextField()
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default=default_currency)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    payment_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The processing lease (services/leases.py): the worker process whose task holds the order,
    # and until when. While no worker has claimed it, lease_until is when the sweeper may queue
    # it again.
    lease_host = models.CharField(max_length=255, blank=True)
    lease_pid = models.PositiveIntegerField(null=True, blank=True)
    lease_task_id = models.CharField(max_length=64, blank=True)
    lease_claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("shop:order", kwargs={"token": self.access_token})

    @property
    def is_settled(self) -> bool:
        """True once the worker has nothing more to do for this order."""
        return self.status in {self.Status.CONFIRMED, self.Status.SHIPPED, self.Status.FAILED}


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.UniqueConstraint(fields=["order", "product"], name="orderline_one_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
