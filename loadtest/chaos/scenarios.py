"""The faults `make chaos` causes, one function each: what it breaks, under what load, and its pass."""
from __future__ import annotations

import threading
import time
from collections import Counter

from loadtest.chaos.overload import overload
from loadtest.chaos.scene import RECOVERY_SECONDS, Figure, in_background, kept_promises, promised, scene, wait_until
from loadtest.faultproxy import FaultProxy
from loadtest.shoppers import Tally, browse_while, customers_buy, customers_while

REDIS = ("127.0.0.1", 6379)
POSTGRES = ("127.0.0.1", 5432)
PAGES = ["/", "/?sort=price", "/?page=2", "/category/kitchen/", "/category/fitness/", "/?q=oak", "/?q=lamp",
         "/?q=mat&sort=newest", "/?page=3&sort=-price"]


def worker_killed(*, quick: bool) -> Figure:
    """SIGKILL the Celery worker while 100+ orders wait for it: all processed within 60 s of its restart."""
    orders = 40 if quick else 120
    with scene("worker-killed") as s:
        s.supervisor("stop", "worker")  # the backlog builds while nothing works it off
        outcomes = customers_buy(s.stack.url, s.product_path, count=orders, concurrency=6, recorder=s.recorder,
                                 tally=s.tally)
        s.supervisor("start", "worker")
        if not wait_until(lambda: s.orders("confirmed") >= 4, timeout=60):
            raise RuntimeError("the worker started again never confirmed an order")
        old = s.kill("worker")
        restart = s.restarted("worker", old)
        recovered = time.monotonic()
        audit = s.audit()
        processed_within = time.monotonic() - recovered
    promises = kept_promises(audit)
    passed = (outcomes["order"] == orders and restart is not None and processed_within <= RECOVERY_SECONDS
              and not any(promises.values()))
    return Figure("worker-killed", passed, f"{outcomes['order']}/{orders} orders accepted; worker back after "
                  f"{_s(restart)}; every order processed {_s(processed_within)} after that; {promised(promises)}",
                  {"orders": orders, "accepted": outcomes["order"], "restart_seconds": restart,
                   "processed_within_seconds": round(processed_within, 1), **promises})


def broker_down(*, quick: bool) -> Figure:
    """The broker unreachable for 60 s during checkouts: checkout keeps accepting; all processed within 60 s of its return."""
    outage, margin = (20, 5) if quick else (60, 10)
    with FaultProxy(REDIS) as proxy, scene("broker-down", env={
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{proxy.port}/2"}) as s:
        going = _for(margin + outage + margin)
        shopping = in_background(lambda: customers_while(going, s.stack.url, s.product_path, concurrency=3,
                                                         recorder=s.recorder, tally=s.tally))
        cut_at, restored_at = _outage(proxy, after=margin, lasting=outage)
        restored = time.monotonic()
        outcomes = shopping()
        audit = s.audit()
        processed_within = time.monotonic() - restored
        during = [e for e in _events(s, "checkout") if cut_at <= e["at"] <= restored_at]
    accepted = sum(e["outcome"] == "order" for e in during)
    promises = kept_promises(audit)
    passed = bool(during) and accepted == len(during) and processed_within <= RECOVERY_SECONDS and not any(promises.values())
    return Figure("broker-down", passed, f"broker cut {outage} s: {accepted}/{len(during)} checkouts in the outage "
                  f"accepted; every order processed {_s(processed_within)} after its return; {promised(promises)}",
                  {"outage_seconds": outage, "checkouts_during_outage": len(during), "accepted_during_outage": accepted,
                   "outcomes": dict(outcomes), "processed_within_seconds": round(processed_within, 1), **promises})


def replica_killed(*, quick: bool) -> Figure:
    """SIGKILL 1 of 3 browsing replicas under load: 0 failed GETs, 0 duplicate orders, POSTs done or cleanly refused."""
    duration = 20 if quick else 45
    with scene("replica-killed", web=3) as s:
        going = _for(duration)
        browsing = in_background(lambda: browse_while(going, s.stack.url, PAGES, concurrency=4, tally=s.tally))
        buying = in_background(lambda: customers_while(going, s.stack.url, s.product_path, concurrency=2,
                                                       recorder=s.recorder, tally=s.tally))
        time.sleep(duration / 3)
        old = s.kill("web:web-2")
        restart = s.restarted("web:web-2", old)
        browsing(), buying()
        audit = s.audit()
    return _no_failures("replica-killed", s, audit, f"web-2 SIGKILLed, back after {_s(restart)}",
                        {"restart_seconds": restart})


def rolling_restart(*, quick: bool) -> Figure:
    """SIGTERM one replica at a time under load, each back before the next: 0 failed requests, GET or POST."""
    with scene("rolling-restart", web=2, checkout=2) as s:
        rolling = threading.Event()
        rolling.set()
        browsing = in_background(lambda: browse_while(rolling.is_set, s.stack.url, PAGES, concurrency=3, tally=s.tally))
        buying = in_background(lambda: customers_while(rolling.is_set, s.stack.url, s.product_path, concurrency=2,
                                                       recorder=s.recorder, tally=s.tally))
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


def flash_sale(*, quick: bool) -> Figure:
    """Stock 100, 1,000 buyers at once, 3 replicas: exactly 100 sold, stock 0, no 5xx."""
    stock, buyers = (30, 200) if quick else (100, 1000)
    with scene("flash-sale", web=2, checkout=1, featured_stock=stock) as s:
        outcomes = customers_buy(s.stack.url, s.product_path, count=buyers, concurrency=20, recorder=s.recorder,
                                 tally=s.tally)
        audit = s.audit()
    server_errors = sum(n for kind, n in s.tally.statuses.items() if kind.rsplit(" ", 1)[1].startswith("5"))
    promises = kept_promises(audit)
    passed = (audit["featured_sold"] == stock and audit["featured_stock_left"] == 0 and server_errors == 0
              and not any(promises.values()))
    return Figure("flash-sale", passed, f"{audit['featured_sold']} of {stock} sold to {buyers} buyers, stock left "
                  f"{audit['featured_stock_left']}, {server_errors} 5xx; {promised(promises)}",
                  {"stock": stock, "buyers": buyers, "outcomes": dict(outcomes), "sold": audit["featured_sold"],
                   "stock_left": audit["featured_stock_left"], "http_5xx": server_errors, **promises})


def database_down(*, quick: bool) -> Figure:
    """PostgreSQL unreachable for 30 s: warm pages 200; cart and checkout 503 + Retry-After; full service within 10 s."""
    outage, margin = (15, 5) if quick else (30, 10)
    with FaultProxy(POSTGRES) as proxy, scene("database-down", database_port=proxy.port) as s:
        warm = [s.product_path, *PAGES[:4]]
        browse_while(_for(3), s.stack.url, warm, concurrency=1, tally=Tally())  # pages in the caches first
        going = _for(margin + outage + margin)
        browsing = in_background(lambda: browse_while(going, s.stack.url, warm, concurrency=2, tally=s.tally))
        buying = in_background(lambda: customers_while(going, s.stack.url, s.product_path, concurrency=2,
                                                       recorder=s.recorder, tally=s.tally))
        cut_at, restored_at = _outage(proxy, after=margin, lasting=outage)
        browsing(), buying()
        audit = s.audit()
    pages = s.tally.between(cut_at, restored_at, "page")
    # A second's grace at the cut: a request already past the database when it went is served.
    writes = s.tally.between(cut_at + 1, restored_at, "add to cart", "place order")
    after = [a.at - restored_at for a in s.tally.answers if a.at > restored_at and a.kind == "add to cart" and a.status == 200]
    back = min(after) if after else None
    promises = kept_promises(audit)
    pages_ok = sum(a.status == 200 for a in pages)
    writes_clean = sum(a.status == 503 and a.retry_after is not None for a in writes)
    passed = (bool(pages) and pages_ok == len(pages) and writes_clean == len(writes) and back is not None
              and back <= 10 and not any(promises.values()))
    return Figure("database-down", passed, f"database cut {outage} s: {pages_ok}/{len(pages)} warm pages 200, "
                  f"{writes_clean}/{len(writes)} cart and checkout posts 503 with Retry-After; first cart after its "
                  f"return {_s(back)} later; {promised(promises)}",
                  {"outage_seconds": outage, "warm_pages": len(pages), "warm_pages_200": pages_ok,
                   "writes": len(writes), "writes_503_retry_after": writes_clean,
                   "writes_statuses": dict(Counter(a.status for a in writes)), "service_back_seconds": back, **promises})


def _no_failures(name: str, s, audit: dict, fault: str, measured: dict) -> Figure:
    """The pass of faults customers must not notice: no failed request, no order lost or doubled."""
    failed = Counter(s.tally.failed)
    requests = sum(s.tally.statuses.values())
    promises = kept_promises(audit)
    passed = not failed and not any(promises.values())
    return Figure(name, passed, f"{fault}; {sum(failed.values())} of {requests} requests failed"
                  f"{' (' + ', '.join(f'{k}: {n}' for k, n in failed.items()) + ')' if failed else ''}; "
                  f"{audit['orders']} orders; {promised(promises)}",
                  {**measured, "requests": requests, "failed": dict(failed), "orders": audit["orders"], **promises})


def _outage(proxy: FaultProxy, *, after: float, lasting: float) -> tuple[float, float]:
    """Cut the proxy ``after`` seconds, for ``lasting`` seconds; return when it was cut and restored."""
    time.sleep(after)
    cut_at = time.time()
    proxy.cut()
    time.sleep(lasting)
    proxy.restore()
    return cut_at, time.time()


def _for(seconds: float):
    """A ``going`` for the shoppers: true for the next ``seconds``."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() < deadline


def _events(s, kind: str) -> list[dict]:
    from loadtest.record import read_events

    return [e for e in read_events(s.folder / "record") if e["type"] == kind]


def _s(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f} s"


SCENARIOS = {"worker-killed": worker_killed, "broker-down": broker_down, "replica-killed": replica_killed,
             "database-down": database_down, "rolling-restart": rolling_restart, "flash-sale": flash_sale,
             "overload": overload}
QUICK = ["worker-killed", "broker-down"]
