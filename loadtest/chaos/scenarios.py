"""The faults `make chaos` causes, one function each: what it breaks, under what load, and its pass.

Processes killed or restarted and the flash sale here; the broker and the database cut in
outages.py; three times too much browsing in overload.py.
"""

from __future__ import annotations

import threading
import time

from deploy.readiness import wait_until
from loadtest.chaos.harness import RECOVERY_SECONDS, ChaosRun, ScenarioResult, chaos_run, in_seconds
from loadtest.chaos.outages import broker_down, database_down
from loadtest.chaos.overload import overload
from loadtest.shoppers import for_seconds


def worker_killed(*, quick: bool) -> ScenarioResult:
    """SIGKILL the Celery worker while 100+ orders wait for it: all processed within 60 s of its restart."""
    orders = 40 if quick else 120
    with chaos_run("worker-killed") as s:
        s.stack.stop("worker")  # the backlog builds while nothing works it off
        outcomes = s.shoppers.buy(orders, concurrency=6)
        s.stack.start("worker")
        if not wait_until(lambda: s.stack.orders_with_status("confirmed") >= 4, timeout=60, interval=0.5):
            raise RuntimeError("the worker started again never confirmed an order")
        restart = s.stack.crash("worker")
        recovered = time.monotonic()
        audit = s.audit()
        processed_within = time.monotonic() - recovered
    accepted = outcomes["order"]
    return s.result(
        audit,
        accepted == orders and restart is not None and processed_within <= RECOVERY_SECONDS,
        f"{accepted}/{orders} orders accepted; worker back after {in_seconds(restart)}; "
        f"every order processed {in_seconds(processed_within)} after that",
        {
            "orders": orders,
            "accepted": accepted,
            "restart_seconds": restart,
            "processed_within_seconds": round(processed_within, 1),
        },
    )


def replica_killed(*, quick: bool) -> ScenarioResult:
    """SIGKILL 1 of 3 browsing replicas under load: 0 failed GETs, 0 duplicate orders, POSTs done or cleanly refused."""
    duration = 20 if quick else 45
    with chaos_run("replica-killed", web=3) as s:
        shopping = s.shoppers.shop_while(for_seconds(duration), buyers=2, browsers=4)
        time.sleep(duration / 3)
        restart = s.stack.crash("web:web-2")
        shopping()
        audit = s.audit()
    return _no_failures(s, audit, f"web-2 SIGKILLed, back after {in_seconds(restart)}", {"restart_seconds": restart})


def rolling_restart(*, quick: bool) -> ScenarioResult:
    """SIGTERM one replica at a time under load, each back before the next: 0 failed requests, GET or POST."""
    with chaos_run("rolling-restart", web=2, checkout=2) as s:
        rolling = threading.Event()
        rolling.set()
        shopping = s.shoppers.shop_while(rolling.is_set, buyers=2, browsers=3)
        time.sleep(3)
        programs = ["web:web-1", "web:web-2", "checkout:checkout-1", "checkout:checkout-2"]
        for program in programs:
            # As a Kubernetes rolling update: out of nginx's pools, SIGTERM (gunicorn's graceful
            # stop), a new one ready, back in the pools (`make stack-restart`).
            s.stack.restart(program)
            time.sleep(3)  # what a readiness probe gives a new pod before the next is rolled
        time.sleep(3)
        rolling.clear()
        shopping()
        audit = s.audit()
    return _no_failures(s, audit, f"{len(programs)} replicas restarted one by one", {})


def flash_sale(*, quick: bool) -> ScenarioResult:
    """Stock 100, 1,000 buyers at once, 3 replicas: exactly 100 sold, stock 0, no 5xx."""
    stock, buyers = (30, 200) if quick else (100, 1000)
    with chaos_run("flash-sale", web=2, checkout=1, featured_stock=stock) as s:
        outcomes = s.shoppers.buy(buyers, concurrency=20)
        audit = s.audit()
    server_errors = sum(500 <= a.status < 600 for a in s.shoppers.tally.answers)
    sold, left = audit["featured_sold"], audit["featured_stock_left"]
    return s.result(
        audit,
        sold == stock and left == 0 and server_errors == 0,
        f"{sold} of {stock} sold to {buyers} buyers, stock left {left}, {server_errors} 5xx",
        {
            "stock": stock,
            "buyers": buyers,
            "outcomes": dict(outcomes),
            "sold": sold,
            "stock_left": left,
            "http_5xx": server_errors,
        },
    )


def _no_failures(s: ChaosRun, audit: dict, fault: str, measured: dict) -> ScenarioResult:
    """The pass of faults customers must not notice: no failed request, no order lost or doubled."""
    failed = s.shoppers.tally.failed
    requests = len(s.shoppers.tally.answers)
    listed = f" ({', '.join(f'{k}: {n}' for k, n in failed.items())})" if failed else ""
    return s.result(
        audit,
        not failed,
        f"{fault}; {sum(failed.values())} of {requests} requests failed{listed}; {audit['orders']} orders",
        {**measured, "requests": requests, "failed": dict(failed), "orders": audit["orders"]},
    )


# By the names `--only` takes: worker-killed, broker-down...
SCENARIOS = {
    f.__name__.replace("_", "-"): f
    for f in (worker_killed, broker_down, replica_killed, database_down, rolling_restart, flash_sale, overload)
}
QUICK = ["worker-killed", "broker-down"]
# A fault proxy between the app and its broker or database, a rolling restart through nginx's pools
# and nice levels are make stack's: on compose, the faults Docker itself causes and recovers from.
ON_COMPOSE = ["worker-killed", "replica-killed", "flash-sale"]
QUICK_ON_COMPOSE = ["worker-killed", "replica-killed"]
