"""The faults `make chaos` causes, one function each: what it breaks, under what load, and its pass.

Processes killed or restarted and the flash sale here; the broker and the database cut in
outages.py; three times too much browsing in overload.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from deploy.readiness import wait_until
from loadtest.chaos.harness import RECOVERY_SECONDS, BrokenGuarantees, ScenarioResult, chaos_run, in_seconds
from loadtest.chaos.outages import broker_down, database_down
from loadtest.chaos.overload import overload
from loadtest.shoppers import PAGES, browse_while, customers_buy, customers_while, for_seconds, in_background


def worker_killed(*, quick: bool) -> ScenarioResult:
    """SIGKILL the Celery worker while 100+ orders wait for it: all processed within 60 s of its restart."""
    orders = 40 if quick else 120
    with chaos_run("worker-killed") as s:
        s.stack.ctl("stop", "worker")  # the backlog builds while nothing works it off
        outcomes = customers_buy(
            s.stack.url, s.product_path, count=orders, concurrency=6, recorder=s.recorder, tally=s.tally
        )
        s.stack.ctl("start", "worker")
        if not wait_until(lambda: s.orders("confirmed") >= 4, timeout=60):
            raise RuntimeError("the worker started again never confirmed an order")
        old = s.kill("worker")
        restart = s.restarted("worker", old)
        recovered = time.monotonic()
        audit = s.audit()
        processed_within = time.monotonic() - recovered
    guarantees = BrokenGuarantees.of(audit)
    passed = (
        outcomes["order"] == orders and restart is not None and processed_within <= RECOVERY_SECONDS and not guarantees
    )
    return ScenarioResult(
        "worker-killed",
        passed,
        f"{outcomes['order']}/{orders} orders accepted; worker back after "
        f"{in_seconds(restart)}; every order processed {in_seconds(processed_within)} after that; {guarantees}",
        {
            "orders": orders,
            "accepted": outcomes["order"],
            "restart_seconds": restart,
            "processed_within_seconds": round(processed_within, 1),
            **guarantees,
        },
    )


def replica_killed(*, quick: bool) -> ScenarioResult:
    """SIGKILL 1 of 3 browsing replicas under load: 0 failed GETs, 0 duplicate orders, POSTs done or cleanly refused."""
    duration = 20 if quick else 45
    with chaos_run("replica-killed", web=3) as s:
        going = for_seconds(duration)
        browsing = in_background(lambda: browse_while(going, s.stack.url, PAGES, concurrency=4, tally=s.tally))
        buying = in_background(
            lambda: customers_while(
                going, s.stack.url, s.product_path, concurrency=2, recorder=s.recorder, tally=s.tally
            )
        )
        time.sleep(duration / 3)
        old = s.kill("web:web-2")
        restart = s.restarted("web:web-2", old)
        browsing(), buying()
        audit = s.audit()
    return _no_failures(
        "replica-killed", s, audit, f"web-2 SIGKILLed, back after {in_seconds(restart)}", {"restart_seconds": restart}
    )


def rolling_restart(*, quick: bool) -> ScenarioResult:
    """SIGTERM one replica at a time under load, each back before the next: 0 failed requests, GET or POST."""
    with chaos_run("rolling-restart", web=2, checkout=2) as s:
        rolling = threading.Event()
        rolling.set()
        browsing = in_background(lambda: browse_while(rolling.is_set, s.stack.url, PAGES, concurrency=3, tally=s.tally))
        buying = in_background(
            lambda: customers_while(
                rolling.is_set, s.stack.url, s.product_path, concurrency=2, recorder=s.recorder, tally=s.tally
            )
        )
        time.sleep(3)
        programs = ["web:web-1", "web:web-2", "checkout:checkout-1", "checkout:checkout-2"]
        for program in programs:
            # As a Kubernetes rolling update: out of nginx's pools, SIGTERM (gunicorn's graceful
            # stop), a new one ready, back in the pools (`make stack-restart`).
            s.stack.restart(program)
            time.sleep(3)  # what a readiness probe gives a new pod before the next is rolled
        time.sleep(3)
        rolling.clear()
        browsing(), buying()
        audit = s.audit()
    return _no_failures("rolling-restart", s, audit, f"{len(programs)} replicas restarted one by one", {})


def flash_sale(*, quick: bool) -> ScenarioResult:
    """Stock 100, 1,000 buyers at once, 3 replicas: exactly 100 sold, stock 0, no 5xx."""
    stock, buyers = (30, 200) if quick else (100, 1000)
    with chaos_run("flash-sale", web=2, checkout=1, featured_stock=stock) as s:
        outcomes = customers_buy(
            s.stack.url, s.product_path, count=buyers, concurrency=20, recorder=s.recorder, tally=s.tally
        )
        audit = s.audit()
    server_errors = sum(n for kind, n in s.tally.statuses.items() if kind.rsplit(" ", 1)[1].startswith("5"))
    guarantees = BrokenGuarantees.of(audit)
    passed = (
        audit["featured_sold"] == stock and audit["featured_stock_left"] == 0 and server_errors == 0 and not guarantees
    )
    return ScenarioResult(
        "flash-sale",
        passed,
        f"{audit['featured_sold']} of {stock} sold to {buyers} buyers, stock left "
        f"{audit['featured_stock_left']}, {server_errors} 5xx; {guarantees}",
        {
            "stock": stock,
            "buyers": buyers,
            "outcomes": dict(outcomes),
            "sold": audit["featured_sold"],
            "stock_left": audit["featured_stock_left"],
            "http_5xx": server_errors,
            **guarantees,
        },
    )


def _no_failures(name: str, s, audit: dict, fault: str, measured: dict) -> ScenarioResult:
    """The pass of faults customers must not notice: no failed request, no order lost or doubled."""
    failed = Counter(s.tally.failed)
    requests = sum(s.tally.statuses.values())
    guarantees = BrokenGuarantees.of(audit)
    passed = not failed and not guarantees
    return ScenarioResult(
        name,
        passed,
        f"{fault}; {sum(failed.values())} of {requests} requests failed"
        f"{' (' + ', '.join(f'{k}: {n}' for k, n in failed.items()) + ')' if failed else ''}; "
        f"{audit['orders']} orders; {guarantees}",
        {**measured, "requests": requests, "failed": dict(failed), "orders": audit["orders"], **guarantees},
    )


SCENARIOS = {
    "worker-killed": worker_killed,
    "broker-down": broker_down,
    "replica-killed": replica_killed,
    "database-down": database_down,
    "rolling-restart": rolling_restart,
    "flash-sale": flash_sale,
    "overload": overload,
}
QUICK = ["worker-killed", "broker-down"]
