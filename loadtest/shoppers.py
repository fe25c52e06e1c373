"""`make chaos`'s customers: plain threads, each buying one product through nginx as a browser would.

Not Locust: a chaos scenario needs a few dozen customers at a steady pace while it breaks
something, and blocking code it can read top to bottom. Each customer has a loopback address
of its own (nginx limits each address) and records what it saw in the load test's record
format, so loadtest/audit.py accounts for every order exactly as after `make loadtest`.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from requests_toolbelt.adapters.source import SourceAddressAdapter
from urllib3.util.retry import Retry

from loadtest.pages import HIDDEN_FIELD, PRODUCT_ID, RETRYABLE, customer_details
from loadtest.record import Recorder

TIMEOUT = (3.05, 30)
FIRST_ADDRESS = int(ipaddress.IPv4Address("127.3.0.0"))
_addresses = itertools.count()
_lock = threading.Lock()


def refused_cleanly(response: requests.Response | None) -> bool:
    """Too busy, said plainly: 429 or 503 with a Retry-After, which a browser or app can act on."""
    return response is not None and response.status_code in (429, 503) and "Retry-After" in response.headers


def next_address() -> str:
    with _lock:
        return str(ipaddress.IPv4Address(FIRST_ADDRESS + next(_addresses)))


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

    def count(self, kind: str, status: int, ok: bool, response: requests.Response | None = None) -> None:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        with _lock:
            self.statuses[f"{kind} {status}"] += 1
            self.answers.append(Answer(time.time(), kind, status, retry_after))
            if not ok:
                self.failed.append(f"{kind} {status}")

    def between(self, start: float, end: float, *kinds: str) -> list[Answer]:
        return [a for a in self.answers if start <= a.at <= end and a.kind in kinds]


class Customer:
    """One visitor with an address and a session of their own."""

    def __init__(self, url: str, tally: Tally, recorder: Recorder | None = None) -> None:
        self.url, self.recorder, self.tally = url, recorder, tally
        self.address = next_address()
        self.session = requests.Session()
        # As a browser does: a GET sent on a kept-alive connection that the server closed at that
        # moment (nginx reloading, a replica restarting) is sent once more on a new connection.
        # POSTs are not: checkout resends its own form where that is safe (its idempotency key).
        retry = Retry(
            total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET", "HEAD"}, raise_on_status=False
        )
        self.session.mount("http://", SourceAddressAdapter(self.address, max_retries=retry))

    def get(self, path: str, kind: str = "GET", *, again: bool = True, **options) -> requests.Response | None:
        """GET ``path``; told to come back (429, 503 with Retry-After), come back once, as a person would."""
        try:
            response = self.session.get(self.url + path, timeout=TIMEOUT, **options)
        except requests.RequestException:
            self.tally.count(kind, 0, ok=False)
            return None
        if again and refused_cleanly(response):
            self.tally.count(kind, response.status_code, ok=True, response=response)
            time.sleep(min(float(response.headers["Retry-After"]), 5))
            return self.get(path, kind, again=False, **options)
        self.tally.count(kind, response.status_code, ok=response.status_code < 400, response=response)
        return response

    def buy(self, product_path: str) -> str:
        """Product page, cart, checkout; return the outcome: "order", "sold_out" or "refused <status>"."""
        page = self.get(product_path)
        found = PRODUCT_ID.search(page.text) if page is not None else None
        if found is None:
            return self._gave_up("sold_out" if page is not None and page.ok else f"refused {_status(page)}")
        state = self.get("/cart/state/", headers={"Accept": "application/json"})
        if state is None or not state.ok:
            return self._gave_up(f"refused {_status(state)}")
        token = state.json()["csrfToken"]
        added = self._post(
            "/cart/add/",
            {"csrfmiddlewaretoken": token, "product_id": found.group(1), "quantity": 1},
            kind="add to cart",
            allow_redirects=True,
        )
        if added == 400:
            return self._gave_up("sold_out")
        if not 200 <= added < 400:
            return self._gave_up(f"refused {added}")
        form_page = self.get("/checkout/", kind="checkout form")
        fields = dict(HIDDEN_FIELD.findall(form_page.text)) if form_page is not None and form_page.ok else {}
        if "token" not in fields:
            return self._gave_up(f"refused {_status(form_page)}")
        return self.place_order({**fields, **customer_details(self.address)})

    def place_order(self, form: dict[str, str]) -> str:
        for attempt in range(1, 4):
            started = time.perf_counter()
            try:
                response = self.session.post(f"{self.url}/checkout/", data=form, timeout=TIMEOUT, allow_redirects=False)
                status, location = response.status_code, response.headers.get("Location", "")
            except requests.RequestException:
                response, status, location = None, 0, ""
            order = status == 302 and "/orders/" in location
            self.tally.count("place order", status, ok=status == 302 or refused_cleanly(response), response=response)
            self.recorder.event(
                "checkout",
                visitor=self.address,
                phase="chaos",
                attempt=attempt,
                status=status,
                outcome="order" if order else str(status),
                latency_ms=(time.perf_counter() - started) * 1000,
            )
            if order:
                token = location.rstrip("/").rsplit("/", 1)[-1]
                self.recorder.event("buyer", visitor=self.address, phase="chaos", outcome="order", order_token=token)
                return "order"
            if status == 302:
                return self._gave_up("sold_out")
            if status not in RETRYABLE:
                return self._gave_up(f"refused {status}")
            time.sleep(1)
        return self._gave_up(f"refused {status}")

    def _post(self, path: str, data: dict, *, kind: str, **options) -> int:
        try:
            response = self.session.post(self.url + path, data=data, timeout=TIMEOUT, **options)
        except requests.RequestException:
            self.tally.count(kind, 0, ok=False)
            return 0
        self.tally.count(
            kind, response.status_code, ok=response.status_code < 500 or refused_cleanly(response), response=response
        )
        return response.status_code

    def _gave_up(self, outcome: str) -> str:
        self.recorder.event("buyer", visitor=self.address, phase="chaos", outcome=outcome)
        return outcome


def _status(response: requests.Response | None) -> int:
    return 0 if response is None else response.status_code


def customers_buy(
    url: str, product_path: str, *, count: int, concurrency: int, recorder: Recorder, tally: Tally
) -> Counter:
    """``count`` customers, ``concurrency`` at a time, each buying once; their outcomes."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return Counter(pool.map(lambda _: Customer(url, tally, recorder).buy(product_path), range(count)))


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
            outcome = Customer(url, tally, recorder).buy(product_path)
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
            customer = Customer(url, tally)
            for _ in range(10):
                customer.get(paths[next(views) % len(paths)], kind="page")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(lane, n) for n in range(concurrency)]:
            future.result()
