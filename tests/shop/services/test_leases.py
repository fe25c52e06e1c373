"""The processing lease: one process at a time works on an order, and one that died is noticed quickly.

A task claims its order before working on it; the sweeper and a starting worker queue again
what nobody works on, and never what a live process holds. Lapses are simulated by setting
timestamps in the past, never by waiting.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from datetime import timedelta

import pytest
from celery.signals import worker_ready
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app as celery_app
from shop.models import Order
from shop.payments import FakeGateway
from shop.services.leases import LeaseHolder, lease_duration, order_lease_claim, this_host
from shop.services.orders import order_process, orders_recover, orders_requeue_stuck
from tests.concurrency import wait_until
from tests.factories import OrderLineFactory

HOST = this_host()


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except clause catches it."""


class GatewayThatDiesAfterCharging(FakeGateway):
    def charge(self, **kwargs):
        super().charge(**kwargs)
        raise WorkerKilled()


@pytest.fixture(autouse=True)
def _empty_queue_afterwards():
    """Tasks these tests queue name orders that are gone once they end; no later test's worker should meet them."""
    yield
    celery_app.control.purge()


def new_order(product, *, age: timedelta = timedelta(0)) -> Order:
    order = OrderLineFactory(product=product).order
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - age)
    return order


def lapse(order: Order) -> None:
    """Let the order's lease run out, as it does a little after its holder's time limit."""
    Order.objects.filter(pk=order.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def lease_of(order: Order) -> dict:
    return Order.objects.values("lease_host", "lease_pid", "lease_task_id", "lease_claimed_at", "lease_until").get(
        pk=order.pk
    )


def status_of(order: Order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def pid_of_a_finished_process() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.django_db
def test_a_claim_names_the_worker_process_and_lasts_a_little_longer_than_the_task_time_limit(product, settings):
    order = new_order(product)

    assert order_lease_claim(order_id=order.pk, holder=LeaseHolder(host="worker-1", pid=41, task_id="t-1"))

    lease = lease_of(order)
    assert (lease["lease_host"], lease["lease_pid"], lease["lease_task_id"]) == ("worker-1", 41, "t-1")
    assert lease["lease_until"] - lease["lease_claimed_at"] == lease_duration()
    assert lease_duration() > timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


@pytest.mark.django_db
def test_another_task_cannot_claim_an_order_while_its_lease_runs(product):
    order = new_order(product)
    order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id="first"))

    assert not order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id="second"))
    assert lease_of(order)["lease_task_id"] == "first"


@pytest.mark.django_db
def test_a_retry_of_the_same_task_takes_up_its_own_claim(product):
    order = new_order(product)
    order_lease_claim(order_id=order.pk, holder=LeaseHolder(pid=1, task_id="task"))

    assert order_lease_claim(order_id=order.pk, holder=LeaseHolder(pid=2, task_id="task"))


@pytest.mark.django_db
def test_once_the_lease_lapses_another_task_may_claim_the_order(product):
    order = new_order(product)
    order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id="dead"))
    lapse(order)

    assert order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id="next"))


@pytest.mark.django_db
def test_a_settled_order_is_never_claimed(product):
    order = new_order(product)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CONFIRMED)

    assert not order_lease_claim(order_id=order.pk, holder=LeaseHolder())


@pytest.mark.django_db(transaction=True)
def test_of_two_workers_claiming_one_order_at_the_same_moment_only_one_gets_it(product):
    order = new_order(product)
    first_claimed, finish_first = threading.Event(), threading.Event()
    results: dict[str, bool] = {}

    def claim(name: str, hold: bool = False) -> None:
        try:
            with transaction.atomic():
                results[name] = order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id=name))
                if hold:
                    first_claimed.set()
                    finish_first.wait(15)
        finally:
            connection.close()

    first = threading.Thread(target=claim, args=["first", True])
    first.start()
    assert first_claimed.wait(15)
    second = threading.Thread(target=claim, args=["second"])
    second.start()
    # The second UPDATE waits on the first's row lock, then re-reads the row it committed.
    assert wait_until(lambda: waiting_on_a_lock() == 1)
    finish_first.set()
    first.join(15)
    second.join(15)

    assert results == {"first": True, "second": False}


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_task_that_finds_the_order_held_by_a_live_worker_does_nothing(product):
    order = new_order(product)
    order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id="live"))

    assert order_process(order_id=order.pk, holder=LeaseHolder(task_id="duplicate")).status == Order.Status.PENDING
    assert FakeGateway.charges() == {}


@pytest.mark.django_db
def test_the_sweeper_leaves_an_order_a_live_worker_holds_however_old(product):
    order = new_order(product, age=timedelta(hours=1))
    order_lease_claim(order_id=order.pk, holder=LeaseHolder())

    assert orders_requeue_stuck() == 0


@pytest.mark.django_db
def test_the_sweeper_queues_again_an_order_whose_lease_lapsed(product):
    order = new_order(product)
    order_lease_claim(order_id=order.pk, holder=LeaseHolder(task_id="dead"))
    lapse(order)

    assert orders_requeue_stuck() == 1
    # Any task may now claim it: the message just queued, or the lost one if it comes back.
    assert lease_of(order)["lease_claimed_at"] is None


@pytest.mark.django_db
def test_an_order_no_worker_claimed_is_queued_again_after_the_short_threshold_and_not_before(product, settings):
    settings.SHOP_ORDER_UNCLAIMED_AFTER_SECONDS = 30
    new_order(product, age=timedelta(seconds=20))
    new_order(product, age=timedelta(seconds=40))

    assert orders_requeue_stuck() == 1


@pytest.mark.django_db
def test_an_order_queued_again_is_not_queued_at_every_sweep_while_its_message_waits(product, settings):
    order = new_order(product, age=timedelta(minutes=5))
    assert orders_requeue_stuck() == 1

    assert orders_requeue_stuck() == 0

    lapse(order)  # the threshold passed and still no worker claimed it
    assert orders_requeue_stuck() == 1


def test_the_default_schedule_finds_an_unclaimed_order_well_within_a_minute(settings):
    worst_case = (
        settings.SHOP_ORDER_UNCLAIMED_AFTER_SECONDS + settings.CELERY_BEAT_SCHEDULE["sweep-stuck-orders"]["schedule"]
    )

    assert worst_case <= 45  # and a few seconds to process it


@pytest.mark.django_db(transaction=True)
def test_a_task_killed_after_charging_is_run_again_and_charges_once_and_emails_once(celery_worker, product, settings):
    order = new_order(product)
    settings.SHOP_PAYMENT_GATEWAY = f"{__name__}.GatewayThatDiesAfterCharging"
    with pytest.raises(WorkerKilled):
        order_process(order_id=order.pk, holder=LeaseHolder(task_id="killed"))
    assert status_of(order) == Order.Status.PENDING  # charged, but the worker never recorded it
    settings.SHOP_PAYMENT_GATEWAY = "shop.payments.FakeGateway"
    assert orders_requeue_stuck() == 0  # the dead worker's lease still runs
    lapse(order)

    assert orders_requeue_stuck() == 1

    assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED)
    assert len(FakeGateway.ledger().all()) == 1
    assert len(mail.outbox) == 1
    assert orders_requeue_stuck() == 0


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_at_once_recovers_an_order_whose_process_on_this_machine_is_gone(celery_worker, product):
    dead = new_order(product)
    order_lease_claim(order_id=dead.pk, holder=LeaseHolder(host=HOST, pid=pid_of_a_finished_process(), task_id="dead"))
    alive = new_order(product)
    order_lease_claim(order_id=alive.pk, holder=LeaseHolder(host=HOST, task_id="alive"))  # this very process
    elsewhere = new_order(product)
    order_lease_claim(
        order_id=elsewhere.pk, holder=LeaseHolder(host="another-machine", pid=pid_of_a_finished_process())
    )

    worker_ready.send(sender=None)

    assert wait_until(lambda: status_of(dead) == Order.Status.CONFIRMED)
    assert len(mail.outbox) == 1
    assert status_of(alive) == status_of(elsewhere) == Order.Status.PENDING
    assert lease_of(alive)["lease_task_id"] == "alive"


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_at_once_recovers_an_order_claimed_in_an_earlier_life_of_its_container(
    celery_worker, product
):
    # A restarted container keeps its host name and reuses process ids: this very process's id,
    # alive now, held the claim in the container's earlier life.
    earlier = new_order(product)
    earlier_life = f"{socket.gethostname()}/a-start-of-process-1-before-this-one"
    order_lease_claim(order_id=earlier.pk, holder=LeaseHolder(host=earlier_life, task_id="before the restart"))

    worker_ready.send(sender=None)

    assert HOST != earlier_life
    assert wait_until(lambda: status_of(earlier) == Order.Status.CONFIRMED)
    assert len(FakeGateway.ledger().all()) == 1


@pytest.mark.django_db
def test_a_starting_worker_queues_orders_nobody_claimed(product):
    new_order(product, age=timedelta(minutes=5))
    lapsed = new_order(product)
    order_lease_claim(order_id=lapsed.pk, holder=LeaseHolder(host="another-machine"))
    lapse(lapsed)

    assert orders_recover(host=HOST) == 2


@pytest.mark.django_db(transaction=True)
def test_a_task_waiting_to_retry_keeps_its_order_from_the_sweeper(celery_worker, product, settings):
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "unavailable"
    order = new_order(product, age=timedelta(hours=1))
    assert orders_requeue_stuck() == 1

    # The first attempt failed and its retry waits: the lease covers the wait, beyond a fresh claim.
    assert wait_until(lambda: lease_of(order)["lease_claimed_at"] is not None)
    assert wait_until(
        lambda: (lambda lease: lease["lease_until"] - lease["lease_claimed_at"] > lease_duration())(lease_of(order))
    )
    assert orders_requeue_stuck() == 0

    settings.SHOP_FAKE_PAYMENT_OUTCOME = "approve"
    assert wait_until(lambda: status_of(order) == Order.Status.CONFIRMED, timeout=30)
    assert len(FakeGateway.ledger().all()) == 1
    assert len(mail.outbox) == 1
