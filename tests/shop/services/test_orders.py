"""Order processing: a real Celery worker on the real Redis broker moves orders along.

pending -> paid -> confirmed (email sent), or failed with stock released. Every step
is idempotent, and the sweeper recovers what the queue lost (leases: test_leases.py).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from config.celery import app as celery_app
from shop.models import Order, Product
from shop.payments import FakeGateway
from shop.services.checkout import CustomerDetails, order_place
from shop.services.orders import order_process, orders_requeue_stuck
from tests.concurrency import wait_until
from tests.conftest import CUSTOMER
from tests.factories import OrderLineFactory, ProductFactory

DETAILS = CustomerDetails(**CUSTOMER)


def place_order(product, quantity: int = 1) -> Order:
    return order_place(idempotency_key=uuid.uuid4(), cart={product.pk: quantity}, customer=DETAILS)


def status_of(order: Order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


@pytest.fixture
def broker_outage():
    """Point the app's publisher at a port where no broker listens; yield a function that brings it back."""

    def point_publisher_at(url: str | None) -> None:
        celery_app.conf.broker_write_url = url
        # Celery caches its connection and producer pools; drop them so the new URL is used.
        celery_app._after_fork()

    point_publisher_at("redis://127.0.0.1:1/0")
    yield lambda: point_publisher_at(None)
    point_publisher_at(None)


def make_stuck(order: Order, status: str) -> None:
    """Put an order in ``status`` with its lease lapsed, as if its worker had died holding it."""
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Order.objects.filter(pk=order.pk).update(
        status=status, updated_at=an_hour_ago, lease_claimed_at=an_hour_ago, lease_until=an_hour_ago
    )


@pytest.mark.django_db(transaction=True)
def test_worker_charges_and_confirms_an_order_and_emails_the_customer(celery_worker, category):
    product = ProductFactory(category=category, stock=5)

    order = place_order(product, quantity=2)

    assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED)
    order.refresh_from_db()
    assert order.payment_reference.startswith("fake_") and order.confirmed_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [CUSTOMER["email"]] == ["ann@example.com"]
    assert order.number in mail.outbox[0].subject
    assert order.get_absolute_url() in mail.outbox[0].body
    assert Product.objects.get(pk=product.pk).stock == 3


@pytest.mark.django_db(transaction=True)
def test_a_declined_payment_fails_the_order_and_puts_the_stock_back(celery_worker, category, settings):
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "decline"
    product = ProductFactory(category=category, stock=5)

    order = place_order(product, quantity=2)

    assert wait_until(lambda: status_of(order) == Order.Status.FAILED)
    assert Product.objects.get(pk=product.pk).stock == 5
    assert "declined" in Order.objects.get(pk=order.pk).failure_reason
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_gateway_is_retried_until_it_answers(celery_worker, category, settings):
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "unavailable"
    order = place_order(ProductFactory(category=category, stock=5))
    assert not wait_until(lambda: status_of(order) != Order.Status.PENDING, timeout=1)

    settings.SHOP_FAKE_PAYMENT_OUTCOME = "approve"

    assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED, timeout=30)


@pytest.mark.django_db
def test_running_a_failed_order_again_releases_its_stock_only_once(product, settings):
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "decline"
    order = place_order(product, quantity=4)

    order_process(order_id=order.pk)
    order_process(order_id=order.pk)

    assert status_of(order) == Order.Status.FAILED
    assert Product.objects.get(pk=product.pk).stock == 10


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_finishes_a_paid_order_without_charging_again(celery_worker, category):
    product = ProductFactory(category=category, stock=5)
    order = place_order(product)
    assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED)
    charges_before = FakeGateway.charges()
    make_stuck(order, Order.Status.PAID)  # as if the worker died after charging, before the email

    assert orders_requeue_stuck() == 1

    assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED)
    assert FakeGateway.charges() == charges_before
    assert len(mail.outbox) == 2  # at least once: the first email's commit was "lost"
    # ...and the same message twice, with the same key: the mail service keeps one (shop/mail.py).
    keys = {(m.extra_headers["Idempotency-Key"], m.extra_headers["Message-ID"]) for m in mail.outbox}
    assert len(keys) == 1
    assert Product.objects.get(pk=product.pk).stock == 4


@pytest.mark.django_db
def test_the_sweeper_leaves_settled_and_recent_orders_alone(product):
    confirmed = OrderLineFactory(product=product).order
    make_stuck(confirmed, Order.Status.CONFIRMED)
    failed = OrderLineFactory(product=product).order
    make_stuck(failed, Order.Status.FAILED)
    OrderLineFactory(product=product)  # pending, but only just placed

    assert orders_requeue_stuck() == 0


@pytest.mark.django_db(transaction=True)
def test_an_order_the_broker_refused_is_taken_by_the_next_sweep_without_waiting_out_the_threshold(
    category, broker_outage
):
    order = place_order(ProductFactory(category=category, stock=5))  # seconds old: well under the threshold

    broker_outage()  # the broker is back
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert orders_requeue_stuck() == 1
        assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED)


@pytest.mark.django_db(transaction=True)
def test_checkout_with_the_broker_down_accepts_the_order_and_the_sweeper_processes_it(
    category, broker_outage, settings
):
    settings.SHOP_ORDER_UNCLAIMED_AFTER_SECONDS = 0
    product = ProductFactory(category=category, stock=5)

    order = place_order(product)

    assert status_of(order) == Order.Status.PENDING
    assert Product.objects.get(pk=product.pk).stock == 4
    assert orders_requeue_stuck() == 0  # the broker is still down: queued nothing, lost nothing

    broker_outage()  # ends the outage: the broker is back
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert orders_requeue_stuck() == 1
        assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED)
