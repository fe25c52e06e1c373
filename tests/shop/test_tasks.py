"""Tasks: registered under names that outlive a rename, and safe to run more than once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from config.celery import app as celery_app
from shop import tasks
from shop.models import Order, Product
from shop.payments import FakeGateway
from shop.services.checkout import CustomerDetails, order_place
from shop.services.orders import order_queue_processing
from tests.conftest import CUSTOMER

# The names messages in a broker carry: a release that renames a function keeps these,
# or the messages queued before the deploy find no task to run them.
REGISTERED = {
    "shop.tasks.process_order": tasks.order_process,
    "shop.tasks.orders_sweep_stuck": tasks.orders_sweep_stuck,
    "shop.tasks.sessions_clear_expired": tasks.sessions_clear_expired,
}


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_the_registered_names_of_earlier_releases_still_resolve_to_their_tasks(name):
    assert celery_app.tasks[name] is REGISTERED[name]._get_current_object()


def test_every_task_beat_schedules_is_registered():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks, entry


@pytest.mark.django_db
def test_queueing_an_order_runs_the_registered_task_at_once_when_celery_is_eager(product):
    order = order_place(idempotency_key=uuid.uuid4(), cart={product.pk: 1}, customer=CustomerDetails(**CUSTOMER))
    celery_app.conf.task_always_eager = True  # as `make run` does, with no broker
    try:
        assert order_queue_processing(order_id=order.pk) is True
    finally:
        celery_app.conf.task_always_eager = False

    assert Order.objects.get(pk=order.pk).status == Order.Status.CONFIRMED


@pytest.mark.django_db
def test_running_the_task_twice_charges_once_and_emails_once(product):
    order = order_place(idempotency_key=uuid.uuid4(), cart={product.pk: 1}, customer=CustomerDetails(**CUSTOMER))

    first = tasks.order_process.apply(args=[order.pk]).get()
    second = tasks.order_process.apply(args=[order.pk]).get()

    assert first == second == Order.Status.CONFIRMED
    assert len(FakeGateway.charges()) == 1
    assert len(mail.outbox) == 1
    assert Product.objects.get(pk=product.pk).stock == 9


def test_beat_clears_expired_sessions_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]

    assert (entry["task"], entry["schedule"]) == ("shop.tasks.sessions_clear_expired", 3600)


@pytest.mark.django_db
def test_clearing_deletes_expired_sessions_and_keeps_live_ones():
    stores = [SessionStore() for _ in range(2)]
    for store in stores:
        store["cart"] = {"1": 1}
        store.save()
    Session.objects.filter(pk=stores[0].session_key).update(expire_date=timezone.now() - timedelta(days=1))

    tasks.sessions_clear_expired()

    assert list(Session.objects.values_list("pk", flat=True)) == [stores[1].session_key]
