"""Order processing after checkout: charge, confirm by email, or fail and release stock.

Every step checks the order's status first, so running the pipeline twice (a
redelivered task, the sweeper) changes nothing already done, and a processing lease
(leases.py) keeps two processes from working on one order at once. The database is
the truth; the queue is only a trigger.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from django.template.loader import render_to_string
from django.utils import timezone

from shop.mail import mail_send_once
from shop.metrics import ORDERS_PROCESSED
from shop.models import Order
from shop.payments import get_gateway
from shop.services.leases import LeaseHolder, order_lease_claim, order_lease_hand_to_queue, order_leases_free_dead
from shop.services.stock import stock_release

logger = logging.getLogger(__name__)

# Queued by name, so services do not import the tasks that call them. The name predates the
# function's (tasks.order_process) and stays: messages queued before a deploy still run.
ORDER_PROCESS_TASK = "shop.tasks.process_order"


def order_queue_processing(*, order_id: int) -> bool:
    """Hand an order to the worker; if the broker is down, leave it for the sweeper."""
    try:
        # A registered task (ShopConfig.ready imports shop.tasks) runs as the task would, eager
        # where CELERY_TASK_ALWAYS_EAGER; the signature sends by name only if it is not registered.
        current_app.signature(ORDER_PROCESS_TASK, args=(order_id,)).delay()
    except Exception:  # noqa: BLE001 - any broker failure: the order is safe in the database
        logger.warning("Could not queue order %s; the sweeper will pick it up", order_id, exc_info=True)
        # Known not to be queued: the first sweep after the broker's return takes it, not one
        # SHOP_ORDER_UNCLAIMED_AFTER_SECONDS later (those seconds are for messages in a backlog).
        Order.objects.filter(pk=order_id, lease_claimed_at__isnull=True).update(lease_until=Now())
        return False
    return True


def order_process(*, order_id: int, holder: LeaseHolder | None = None) -> Order:
    """Move an order forward as far as it can go: pending -> paid -> confirmed, or failed."""
    if not order_lease_claim(order_id=order_id, holder=holder or LeaseHolder()):
        # Settled, or a live process holds it: that one finishes it, or its lease lapses.
        return Order.objects.get(pk=order_id)
    order = Order.objects.get(pk=order_id)
    if order.status == Order.Status.PENDING:
        # The payment call is made outside any transaction or row lock.
        result = get_gateway().charge(
            idempotency_key=order.number,
            amount=order.total,
            currency=order.currency,
            description=f"Order {order.number}",
        )
        if result.approved:
            Order.objects.filter(pk=order_id, status=Order.Status.PENDING).update(
                status=Order.Status.PAID, payment_reference=result.reference, updated_at=timezone.now()
            )
        elif order_fail(order_id=order_id, reason=result.decline_reason):
            ORDERS_PROCESSED.labels(outcome="failed").inc()
        order.refresh_from_db()
    if order.status == Order.Status.PAID:
        if order_confirm(order_id=order_id):
            ORDERS_PROCESSED.labels(outcome="confirmed").inc()
        order.refresh_from_db()
    return order


@transaction.atomic
def order_fail(*, order_id: int, reason: str) -> bool:
    """Mark a pending order failed and put its stock back, once; False if it was not pending."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != Order.Status.PENDING:
        return False
    for line in order.lines.all():
        stock_release(product_id=line.product_id, quantity=line.quantity)
    order.status = Order.Status.FAILED
    order.failure_reason = reason[:200]
    order.save(update_fields=["status", "failure_reason", "updated_at"])
    return True


@transaction.atomic
def order_confirm(*, order_id: int) -> bool:
    """Send the confirmation email and mark a paid order confirmed, once; False if it was not paid."""
    # The row lock makes concurrent runs send one email. If the commit fails after the send (a
    # worker killed in between), the retry sends the same message again, with the same key:
    # the mail service keeps one (shop/mail.py), as the card processor does with a charge.
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != Order.Status.PAID:
        return False
    context = {"order": order, "lines": list(order.lines.all()), "status_url": _order_status_url(order)}
    mail_send_once(
        key=f"order-confirmed-{order.number}",
        subject=f"Your {settings.SHOP_NAME} order {order.number} is confirmed",
        body=render_to_string("shop/email/order_confirmed.txt", context),
        to=[order.email],
        domain=urlsplit(settings.SHOP_BASE_URL).hostname or "stampede.example",
    )
    order.status = Order.Status.CONFIRMED
    order.confirmed_at = timezone.now()
    order.save(update_fields=["status", "confirmed_at", "updated_at"])
    return True


def _order_status_url(order: Order) -> str:
    return settings.SHOP_BASE_URL.rstrip("/") + order.get_absolute_url()


def order_mark_shipped(*, order_id: int) -> bool:
    """Mark a confirmed order shipped; False if it was not confirmed."""
    return bool(
        Order.objects.filter(pk=order_id, status=Order.Status.CONFIRMED).update(
            status=Order.Status.SHIPPED, updated_at=timezone.now()
        )
    )


def orders_requeue_stuck(*, limit: int = 500) -> int:
    """Queue again the unsettled orders nobody works on (lease lapsed, or unclaimed a while); return how many."""
    unattended = Order.objects.unattended().order_by("created_at").values_list("pk", flat=True)[:limit]
    requeued = 0
    for order_id in unattended:
        # Queued first, marked after: while the broker is down nothing is marked, and the
        # next sweep tries again (this one stops: the rest would wait on the broker too).
        if not order_queue_processing(order_id=order_id):
            break
        order_lease_hand_to_queue(order_id=order_id)
        requeued += 1
    return requeued


def orders_recover(*, host: str) -> int:
    """On a worker's start: end the claims this machine's dead processes left, queue what nobody works on."""
    freed = order_leases_free_dead(host=host)
    if freed:
        logger.warning("Freed %s order(s) claimed by processes on %s that are gone", freed, host)
    return orders_requeue_stuck()
