"""Celery tasks: load by id, call a service, retry on transient errors.

Tasks call services, never the other way round: services queue a task by its registered name
(``ORDER_PROCESS_TASK`` in services/orders.py). Registered names outlive a rename of the function,
so messages queued by the previous release still run during a deploy.
"""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.management import call_command
from django.db import DatabaseError, OperationalError

from shop.payments import PaymentGatewayUnavailable
from shop.services import orders as order_services
from shop.services.leases import LeaseHolder, order_lease_extend

TRANSIENT_ERRORS = (PaymentGatewayUnavailable, OperationalError, SMTPException, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    name=order_services.ORDER_PROCESS_TASK,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def order_process(self, order_id: int) -> str:
    """Charge and confirm one order; safe to run any number of times."""
    holder = LeaseHolder(task_id=self.request.id) if self.request.id else LeaseHolder()
    try:
        return order_services.order_process(order_id=order_id, holder=holder).status
    except TRANSIENT_ERRORS:
        # Keep the order through the longest wait autoretry may choose (jitter only shortens
        # it), so the sweeper does not queue a second task beside the retry.
        longest_wait = get_exponential_backoff_interval(
            factor=self.retry_backoff, retries=self.request.retries, maximum=self.retry_backoff_max
        )
        try:
            order_lease_extend(order_id=order_id, holder=holder, seconds=longest_wait)
        except DatabaseError:
            pass  # the database is what failed: the claim lapses and the sweeper queues the order
        raise


@shared_task(name="shop.tasks.orders_sweep_stuck")
def orders_sweep_stuck() -> int:
    """Re-queue orders nobody is working on (broker down at checkout, a crashed worker)."""
    return order_services.orders_requeue_stuck()


@shared_task(name="shop.tasks.sessions_clear_expired")
def sessions_clear_expired() -> None:
    """Delete expired sessions (Django's clearsessions), so old carts do not pile up in the database."""
    call_command("clearsessions")
