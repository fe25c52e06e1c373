"""`make chaos`'s customers: plain threads, each a loadtest/customer.py Customer buying one product through nginx.

Not Locust: a scenario needs a few dozen customers at a steady pace while it breaks something, in
blocking code read top to bottom. Each has a loopback address of its own (nginx limits each address)
and records what it saw in the load test's format, so loadtest/audit.py accounts for every order.
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
    ok: bool  # a page or redirect, a clean "too busy", or the cart's "sold out"; else it failed


@dataclass
class Tally:
    """Every answer the requests of a scenario got, in order."""

    answers: list[Answer] = field(default_factory=list)

    def count(self, kind: str, response: requests.Response) -> None:
        status, retry_after = response.status_code, response.headers.get("Retry-After")
        ok = answered(response) or refused_cleanly(response) or (kind == "add to cart" and 400 <= status < 500)
        with _lock:
            self.answers.append(Answer(time.time(), kind, status, retry_after, ok))

    @property
    def failed(self) -> Counter:
        """How many answers of each kind and status ("place order 502") failed."""
        return Counter(f"{a.kind} {a.status}" for a in self.answers if not a.ok)

    def between(self, start: float, end: float, *kinds: str) -> list[Answer]:
        return [a for a in self.answers if start <= a.at <= end and a.kind in kinds]


@dataclass
class Shoppers:
    """A scenario's customers at ``url``: the product they buy, their record, the tally of every answer."""

    url: str
    product_path: str
    recorder: Recorder
    tally: Tally = field(default_factory=Tally)

    def buy_once(self) -> str:
        """A new customer buys the product once (recorded); the outcome."""
        buyer = Customer(
            self.url, address=next_address(), recorder=self.recorder, phase="chaos", on_answer=self.tally.count
        )
        return buyer.buy(self.product_path, read_order=False)

    def buy(self, count: int, *, concurrency: int) -> Counter:
        """``count`` customers, ``concurrency`` at a time, each buying once; their outcomes."""
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return Counter(pool.map(lambda _: self.buy_once(), range(count)))

    def shop_while(
        self, going: Callable[[], bool], *, buyers: int, browsers: int = 0, pages: list[str] = PAGES
    ) -> Callable[[], Counter]:
        """Start ``buyers`` lanes of customers buying one after another and ``browsers`` lanes of page views
        (a new visitor every ten), for as long as ``going()``; return what waits for them: the buyers' outcomes."""
        outcomes: Counter = Counter()

        def buying() -> None:
            while going():
                outcome = self.buy_once()
                with _lock:
                    outcomes[outcome] += 1
                time.sleep(0.5)

        def browsing(offset: int) -> None:
            views = itertools.count(offset)
            while going():
                visitor = Customer(self.url, address=next_address(), phase="chaos", on_answer=self.tally.count)
                for _ in range(10):
                    try:
                        visitor.page(pages[next(views) % len(pages)], label="page")
                    except GaveUp:
                        break  # turned away twice in a row: they leave, and the next visitor comes

        pool = ThreadPoolExecutor(max_workers=buyers + browsers)
        lanes = [pool.submit(buying) for _ in range(buyers)] + [pool.submit(browsing, n) for n in range(browsers)]
        pool.shutdown(wait=False)

        def done() -> Counter:
            for lane in lanes:
                lane.result()
            return outcomes

        return done


def for_seconds(seconds: float) -> Callable[[], bool]:
    """A ``going`` for the customers: true for the next ``seconds``."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() < deadline
