"""`make chaos`'s customers: plain threads, each a loadtest/customer.py Customer buying one product through nginx.

Not Locust: a chaos scenario needs a few dozen customers at a steady pace while it breaks
something, and blocking code it can read top to bottom. Each customer has a loopback address
of its own (nginx limits each address) and records what it saw in the load test's record
format, so loadtest/audit.py accounts for every order exactly as after `make loadtest`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from loadtest.customer import Customer, GaveUp, answered, loopback_addresses, refused_cleanly
from loadtest.record import Recorder

next_address = loopback_addresses("127.3.0.0")
_lock = threading.Lock()
# What the scenarios' visitors browse: catalog pages, some cached, some searched.
PAGES = [
    "/",
    "/?sort=price",
    "/?page=2",
    "/category/kitchen/",
    "/category/fitness/",
    "/?q=oak",
    "/?q=lamp",
    "/?q=mat&sort=newest",
    "/?page=3&sort=-price",
]


@dataclass
class Answer:
    at: float  # time.time() when it came
    kind: str  # "page", "add to cart", "place order", ...
    status: int  # 0: no answer at all
    retry_after: str | None


@dataclass
class Tally:
    """What every request of a scenario got: statuses by kind, failures, and each answer in order."""

    statuses: Counter = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    def count(self, kind: str, response: requests.Response) -> None:
        """One answer. It failed unless it was a page or redirect, a clean "too busy", or the cart's "sold out"."""
        status = response.status_code
        ok = answered(response) or refused_cleanly(response) or (kind == "add to cart" and 400 <= status < 500)
        with _lock:
            self.statuses[f"{kind} {status}"] += 1
            self.answers.append(Answer(time.time(), kind, status, response.headers.get("Retry-After")))
            if not ok:
                self.failed.append(f"{kind} {status}")

    def between(self, start: float, end: float, *kinds: str) -> list[Answer]:
        return [a for a in self.answers if start <= a.at <= end and a.kind in kinds]


def customer(url: str, tally: Tally, recorder: Recorder | None = None) -> Customer:
    """A new customer at ``url`` whose every answer goes into ``tally`` (and what they saw into ``recorder``)."""
    return Customer(url, address=next_address(), recorder=recorder, phase="chaos", on_answer=tally.count)


def customers_buy(
    url: str, product_path: str, *, count: int, concurrency: int, recorder: Recorder, tally: Tally
) -> Counter:
    """``count`` customers, ``concurrency`` at a time, each buying once; their outcomes."""

    def buy(_: int) -> str:
        return customer(url, tally, recorder).buy(product_path, read_order=False)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return Counter(pool.map(buy, range(count)))


def customers_while(
    going: Callable[[], bool],
    url: str,
    product_path: str,
    *,
    concurrency: int,
    recorder: Recorder,
    tally: Tally,
    pause: float = 0.5,
) -> Counter:
    """Customers arriving one after another on ``concurrency`` lanes for as long as ``going()``."""
    outcomes: Counter = Counter()

    def lane() -> None:
        while going():
            outcome = customer(url, tally, recorder).buy(product_path, read_order=False)
            with _lock:
                outcomes[outcome] += 1
            time.sleep(pause)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(lane) for _ in range(concurrency)]:
            future.result()
    return outcomes


def browse_while(going: Callable[[], bool], url: str, paths: list[str], *, concurrency: int, tally: Tally) -> None:
    """Page views on ``concurrency`` lanes for as long as ``going()``: each lane a new visitor every ten pages."""

    def lane(offset: int) -> None:
        views = itertools.count(offset)
        while going():
            visitor = customer(url, tally)
            for _ in range(10):
                try:
                    visitor.page(paths[next(views) % len(paths)], label="page")
                except GaveUp:
                    break  # turned away twice in a row: they leave, and the next visitor comes

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(lane, n) for n in range(concurrency)]:
            future.result()


def for_seconds(seconds: float) -> Callable[[], bool]:
    """A ``going`` for the customers: true for the next ``seconds``."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() < deadline


def in_background(work: Callable[[], object]) -> Callable[[], object]:
    """Start ``work`` on a thread; return a function that waits for its result."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(value=work()), daemon=True)
    thread.start()

    def join() -> object:
        thread.join()
        return result.get("value")

    return join
