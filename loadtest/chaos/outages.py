"""Faults of the services the shop depends on: the broker and the database cut through a TCP proxy."""

from __future__ import annotations

import time
from collections import Counter

from loadtest.chaos.harness import RECOVERY_SECONDS, BrokenGuarantees, ScenarioResult, chaos_run, in_seconds, recorded
from loadtest.faultproxy import FaultProxy
from loadtest.shoppers import PAGES, Tally, browse_while, customers_while, for_seconds, in_background

REDIS = ("127.0.0.1", 6379)
POSTGRES = ("127.0.0.1", 5432)


def broker_down(*, quick: bool) -> ScenarioResult:
    """The broker unreachable for 60 s during checkouts: checkout keeps accepting; all processed within 60 s of its return."""
    outage, margin = (20, 5) if quick else (60, 10)
    with (
        FaultProxy(REDIS) as proxy,
        chaos_run("broker-down", env={"CELERY_BROKER_URL": f"redis://127.0.0.1:{proxy.port}/2"}) as s,
    ):
        going = for_seconds(margin + outage + margin)
        shopping = in_background(
            lambda: customers_while(
                going, s.stack.url, s.product_path, concurrency=3, recorder=s.recorder, tally=s.tally
            )
        )
        cut_at, restored_at = _outage(proxy, after=margin, lasting=outage)
        restored = time.monotonic()
        outcomes = shopping()
        audit = s.audit()
        processed_within = time.monotonic() - restored
        during = [e for e in recorded(s, "checkout") if cut_at <= e["at"] <= restored_at]
    accepted = sum(e["outcome"] == "order" for e in during)
    guarantees = BrokenGuarantees.of(audit)
    passed = bool(during) and accepted == len(during) and processed_within <= RECOVERY_SECONDS and not guarantees
    return ScenarioResult(
        "broker-down",
        passed,
        f"broker cut {outage} s: {accepted}/{len(during)} checkouts in the outage "
        f"accepted; every order processed {in_seconds(processed_within)} after its return; {guarantees}",
        {
            "outage_seconds": outage,
            "checkouts_during_outage": len(during),
            "accepted_during_outage": accepted,
            "outcomes": dict(outcomes),
            "processed_within_seconds": round(processed_within, 1),
            **guarantees,
        },
    )


def database_down(*, quick: bool) -> ScenarioResult:
    """PostgreSQL unreachable for 30 s: warm pages 200; cart and checkout 503 + Retry-After; full service within 10 s."""
    outage, margin = (15, 5) if quick else (30, 10)
    with FaultProxy(POSTGRES) as proxy, chaos_run("database-down", database_port=proxy.port) as s:
        warm = [s.product_path, *PAGES[:4]]
        browse_while(for_seconds(3), s.stack.url, warm, concurrency=1, tally=Tally())  # pages in the caches first
        going = for_seconds(margin + outage + margin)
        browsing = in_background(lambda: browse_while(going, s.stack.url, warm, concurrency=2, tally=s.tally))
        buying = in_background(
            lambda: customers_while(
                going, s.stack.url, s.product_path, concurrency=2, recorder=s.recorder, tally=s.tally
            )
        )
        cut_at, restored_at = _outage(proxy, after=margin, lasting=outage)
        browsing(), buying()
        audit = s.audit()
    pages = s.tally.between(cut_at, restored_at, "page")
    # A second's grace at the cut: a request already past the database when it went is served.
    writes = s.tally.between(cut_at + 1, restored_at, "add to cart", "place order")
    after = [
        a.at - restored_at
        for a in s.tally.answers
        if a.at > restored_at and a.kind == "add to cart" and a.status == 200
    ]
    back = min(after) if after else None
    guarantees = BrokenGuarantees.of(audit)
    pages_ok = sum(a.status == 200 for a in pages)
    writes_clean = sum(a.status == 503 and a.retry_after is not None for a in writes)
    passed = (
        bool(pages)
        and pages_ok == len(pages)
        and writes_clean == len(writes)
        and back is not None
        and back <= 10
        and not guarantees
    )
    return ScenarioResult(
        "database-down",
        passed,
        f"database cut {outage} s: {pages_ok}/{len(pages)} warm pages 200, "
        f"{writes_clean}/{len(writes)} cart and checkout posts 503 with Retry-After; first cart after its "
        f"return {in_seconds(back)} later; {guarantees}",
        {
            "outage_seconds": outage,
            "warm_pages": len(pages),
            "warm_pages_200": pages_ok,
            "writes": len(writes),
            "writes_503_retry_after": writes_clean,
            "writes_statuses": dict(Counter(a.status for a in writes)),
            "service_back_seconds": back,
            **guarantees,
        },
    )


def _outage(proxy: FaultProxy, *, after: float, lasting: float) -> tuple[float, float]:
    """Cut the proxy ``after`` seconds, for ``lasting`` seconds; return when it was cut and restored."""
    time.sleep(after)
    cut_at = time.time()
    proxy.cut()
    time.sleep(lasting)
    proxy.restore()
    return cut_at, time.time()
