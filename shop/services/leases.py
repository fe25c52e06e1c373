"""The processing lease: one process at a time works on an order, and a dead one is noticed.

A task claims the order with one conditional UPDATE before it does anything. The claim lasts
a little longer than the task's hard time limit, after which the process running it is gone;
the sweeper then queues the order again. A task keeps its id through its retries, so a retry
takes up its own claim. Every lapse is judged by the database's clock, never a worker's.
"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Now

from shop.models import Order


@functools.cache  # neither changes while this process runs; every task's claim asks
def this_host() -> str:
    """This machine as a lease names it: its host name and when its process 1 started ("name/ticks").

    A container that restarts keeps its host name but starts its processes anew, reusing their
    ids, so a pid alone would read a dead claimant as alive until its claim lapsed (measured under
    compose: 141 s after a worker crash, against 34 s under make stack). The start of process 1
    tells the two lives apart, and a new boot the same way; where /proc cannot say, the name alone.
    """
    try:
        stat = Path("/proc/1/stat").read_text()
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{stat.rsplit(')', 1)[1].split()[19]}"  # field 22: its start, in ticks since boot


@dataclass(frozen=True)
class LeaseHolder:
    """A worker process and the task it runs."""

    host: str = field(default_factory=this_host)
    pid: int = field(default_factory=os.getpid)
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def lease_duration() -> timedelta:
    """How long a claim lasts: the task's hard time limit and a margin."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.SHOP_ORDER_LEASE_MARGIN_SECONDS)


def order_lease_claim(*, order_id: int, holder: LeaseHolder) -> bool:
    """Claim an unsettled order for ``holder``; False if it is settled or another live claim holds it."""
    free = Q(lease_claimed_at__isnull=True) | Q(lease_until__lt=Now()) | Q(lease_task_id=holder.task_id)
    # Of two concurrent claims, PostgreSQL re-checks the second UPDATE's WHERE against the
    # first's committed row, so exactly one succeeds.
    claimed = (
        Order.objects.unsettled()
        .filter(free, pk=order_id)
        .update(
            lease_host=holder.host,
            lease_pid=holder.pid,
            lease_task_id=holder.task_id,
            lease_claimed_at=Now(),
            lease_until=Now() + lease_duration(),
        )
    )
    return bool(claimed)


def order_lease_extend(*, order_id: int, holder: LeaseHolder, seconds: float) -> bool:
    """Hold ``holder``'s claim ``seconds`` longer than a fresh one, while its retry waits to run."""
    extended = Order.objects.filter(pk=order_id, lease_task_id=holder.task_id).update(
        lease_until=Now() + lease_duration() + timedelta(seconds=seconds)
    )
    return bool(extended)


def order_lease_hand_to_queue(*, order_id: int) -> bool:
    """Mark an unattended order as queued again: claimable by any task, unattended again after a while."""
    # Conditional, so a claim taken since the sweeper looked is never undone; and the order is
    # not queued again at every sweep while its message waits behind a backlog.
    handed = (
        Order.objects.unattended()
        .filter(pk=order_id)
        .update(
            lease_host="",
            lease_pid=None,
            lease_task_id="",
            lease_claimed_at=None,
            lease_until=Now() + timedelta(seconds=settings.SHOP_ORDER_UNCLAIMED_AFTER_SECONDS),
        )
    )
    return bool(handed)


def order_leases_free_dead(*, host: str) -> int:
    """End at once the live claims of ``host``'s processes that no longer run; return how many.

    ``host`` as this_host() names this machine: a claim of an earlier life of it (a restarted
    container, a reboot) is dead whatever its pid; one of this life, if its process is gone.
    Only this machine's processes can be checked; another's claims lapse on their own.
    """
    name = host.partition("/")[0]
    held = (
        Order.objects.unsettled()
        .filter(Q(lease_host=host) | Q(lease_host__startswith=f"{name}/"))
        .filter(lease_claimed_at__isnull=False, lease_until__gte=Now())
        .values_list("pk", "lease_host", "lease_pid", "lease_task_id")
    )
    freed = 0
    for order_id, holder_host, pid, task_id in held:
        if holder_host != host or (pid is not None and not _process_alive(pid)):
            freed += Order.objects.filter(
                pk=order_id, lease_host=holder_host, lease_pid=pid, lease_task_id=task_id
            ).update(lease_until=F("lease_claimed_at"))
    return freed


def _process_alive(pid: int) -> bool:
    """True if a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
