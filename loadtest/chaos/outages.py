"""Faults of the services the shop depends on: the broker and the database cut through a TCP proxy."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

from loadtest.chaos.harness import RECOVERY_SECONDS, ScenarioResult, chaos_run, in_seconds
from loadtest.faultproxy import FaultProxy
from loadtest.shoppers import PAGES, Tally, for_seconds

REDIS = ("127.0.0.1", 6379)
POSTGRES = ("127.0.0.1", 5432)


def broker_down(*, quick: bool) -> ScenarioResult:
    """The broker unreachable for 60 s during checkouts: checkout keeps accepting; all processed within 60 s of its return."""
    outage, margin = (20, 5) if quick else (60, 10)
    with (
        FaultProxy(REDIS) as proxy,
        chaos_run("broker-down", env={"CELERY_BROKER_URL": f"redis://127.0.0.1:{proxy.port}/2"}) as s,
    ):
        shopping = s.shoppers.shop_while(for_seconds(margin + outage + margin), buyers=3)
        cut_at, restored_at = _outage(proxy, after=margin, lasting=outage)
        restored = time.monotonic()
        outcomes = shopping()
        audit = s.audit()
        processed_within = time.monotonic() - restored
        during = [e for e in s.events("checkout") if cut_at <= e["at"] <= restored_at]
    accepted = sum(e["outcome"] == "order" for e in during)
    return s.result(
        audit,
        bool(during) and accepted == len(during) and processed_within <= RECOVERY_SECONDS,
        f"broker cut {outage} s: {accepted}/{len(during)} checkouts in the outage "
        f"accepted; every order processed {in_seconds(processed_within)} after its return",
        {
            "outage_seconds": outage,
            "checkouts_during_outage": len(during),
            "accepted_during_outage": accepted,
            "outcomes": dict(outcomes),
            "processed_within_seconds": round(processed_within, 1),
        },
    )


def database_down(*, quick: bool) -> ScenarioResult:
    """PostgreSQL unreachable for 30 s: warm pages 200; cart and checkout 503 + Retry-After; full service within 10 s."""
    outage, margin = (15, 5) if quick else (30, 10)
    with FaultProxy(POSTGRES) as proxy, chaos_run("database-down", database_port=proxy.port) as s:
        warm = [s.shoppers.product_path, *PAGES[:4]]
        # The pages in the caches first, by a visitor counted apart.
        replace(s.shoppers, tally=Tally()).shop_while(for_seconds(3), buyers=0, browsers=1, pages=warm)()
        shopping = s.shoppers.shop_while(for_seconds(margin + outage + margin), buyers=2, browsers=2, pages=warm)
        cut_at, restored_at = _outage(proxy, after=margin, lasting=outage)
        shopping()
        audit = s.audit()
    tally = s.shoppers.tally
    pages = tally.between(cut_at, restored_at, "page")
    # A second's grace at the cut: a request already past the database when it went is served.
    writes = tally.between(cut_at + 1, restored_at, "add to cart", "place order")
    after = [
        a.at - restored_at for a in tally.answers if a.at > restored_at and a.kind == "add to cart" and a.status == 200
    ]
    back = min(after) if after else None
    pages_ok = sum(a.status == 200 for a in pages)
    writes_clean = sum(a.status == 503 and a.retry_after is not None for a in writes)
    return s.result(
        audit,
        bool(pages) and pages_ok == len(pages) and writes_clean == len(writes) and back is not None and back <= 10,
        f"database cut {outage} s: {pages_ok}/{len(pages)} warm pages 200, "
        f"{writes_clean}/{len(writes)} cart and checkout posts 503 with Retry-After; first cart after its "
        f"return {in_seconds(back)} later",
        {
            "outage_seconds": outage,
            "warm_pages": len(pages),
            "warm_pages_200": pages_ok,
            "writes": len(writes),
            "writes_503_retry_after": writes_clean,
            "writes_statuses": dict(Counter(a.status for a in writes)),
            "service_back_seconds": back,
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
