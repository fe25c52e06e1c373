"""Celery tasks: load by id, call a service, retry on transient errors."""
from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.core.management import call_command
from django.db import OperationalError

from shop.payments import PaymentGatewayUnavailable
from shop.services.orders import order_process, orders_requeue_stuck

TRANSIENT_ERRORS = (PaymentGatewayUnavailable, OperationalError, SMTPException, ConnectionError, TimeoutError)


@shared_task(
    name="shop.tasks.process_order",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def process_order(order_id: int) -> str:
    """Charge and confirm one order; safe to run any number of times."""
    return order_process(order_id=order_id).status


@shared_task(name="shop.tasks.orders_sweep_stuck")
def orders_sweep_stuck() -> int:
    """Re-queue orders the queue lost (broker down at checkout, a crashed worker)."""
    return orders_requeue_stuck()


@shared_task(name="shop.tasks.sessions_clear_expired")
def sessions_clear_expired() -> None:
    """Delete expired sessions (Django's clearsessions), so old carts do not pile up in the database."""
    call_command("clearsessions")
