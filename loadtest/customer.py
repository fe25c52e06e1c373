"""One customer of the shop over HTTP: the client Locust's visitors, the chaos customers and the stack tests shop with.

It follows the waiting room's line, sends forms with the token the page script fetches, and sends
checkout again with its idempotency key when the shop was too busy. No Locust import: it patches
threads for gevent, under which the same blocking calls wait cooperatively. requests, not
geventhttpclient: only requests lets a customer have a loopback source address of its own
(127.x.y.z), as nginx and the room limit each address.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
from requests_toolbelt.adapters.source import SourceAddressAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from loadtest.pages import HIDDEN_FIELD, ORDER_NUMBER, PRODUCT_ID, RETRYABLE, customer_details, page_name
from loadtest.record import Recorder
from shop.middleware import CART_STATE_VERSION_COOKIE

TIMEOUT = (3.05, 30)  # seconds to connect, then to wait for a page: a person's patience
IN_LINE = "data-waiting-room="  # the room's page, and nginx's busy page for those in line


class DroppedConnectionRetry(Retry):
    """A GET goes again once after its kept-alive connection dropped, as a browser's does; never after a timeout.

    urllib3 would retry a read timeout alike, but a person who waited 30 s for a page is not given
    another 30 s unseen. POSTs never go again here: checkout resends its form itself (its idempotency key).
    """

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None) -> Retry:
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


GET_AGAIN = DroppedConnectionRetry(
    total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET", "HEAD"}, raise_on_status=False
)


class GaveUp(Exception):
    """The customer leaves: the shop turned them away or did not answer."""


class SoldOut(GaveUp):
    """The product page offers nothing to buy, or the cart refused it."""


def answered(response: requests.Response) -> bool:
    """True for a page or a redirect; no answer at all (a timeout, a reset) has status 0."""
    return 200 <= response.status_code < 400


def refused_cleanly(response: requests.Response) -> bool:
    """Too busy, said plainly: 429 or 503 with a Retry-After, which a browser or app can act on."""
    return response.status_code in (429, 503) and "Retry-After" in response.headers


def loopback_addresses(first: str) -> Callable[[], str]:
    """Consecutive addresses from ``first``, one per call, from any thread: one per customer."""
    numbers = itertools.count(int(ipaddress.IPv4Address(first)))  # next() on a count is atomic under the GIL
    return lambda: str(ipaddress.IPv4Address(next(numbers)))


@dataclass(frozen=True)
class InLine:
    """The room's answer to someone it holds in line."""

    estimate: int | None  # seconds, as the page or the JSON says
    known: bool  # False while the wait is estimated from a planned pace, not a measured one
    refresh: float  # when to ask again


def in_line(response: requests.Response) -> InLine | None:
    """The room's answer if ``response`` is its line's page (or JSON), else None."""
    if response.headers.get("Content-Type", "").startswith("application/json"):
        data = response.json()
        if data.get("status") not in ("queued", "prequeued"):
            return None
        return InLine(data["estimated_wait_seconds"], data["wait_known"], data["refresh_after_seconds"])
    if IN_LINE not in response.text:
        return None
    estimate = re.search(r'data-estimated-wait-seconds="(\d+)"', response.text)
    return InLine(
        int(estimate.group(1)) if estimate else None,
        "planned pace" not in response.text,
        float(response.headers.get("Retry-After", 10)),
    )


def checkout_outcome(response: requests.Response) -> str:
    """What the shop said to a checkout: an order, sold out (back to the cart), too busy (retry), or no."""
    if response.status_code == 302:
        return "order" if "/orders/" in response.headers.get("Location", "") else "sold_out"
    return "retry" if response.status_code in RETRYABLE else "rejected"


class Customer:
    """One person at the shop, with cookies (and an address) of their own: pages, the cart, checkout.

    What they saw goes into the ``recorder``'s record (loadtest/audit.py accounts for every order they
    were shown); ``on_answer`` hears of every answer.
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        address: str = "",
        session: requests.Session | None = None,
        accept: str = "text/html",
        recorder: Recorder | None = None,
        phase: str = "",
        on_answer: Callable[[str, requests.Response], None] | None = None,
    ) -> None:
        self.base_url, self.address, self.accept = base_url.rstrip("/"), address, accept
        self.session = session if session is not None else requests.Session()
        if address:
            self.session.mount("http://", SourceAddressAdapter(address, max_retries=GET_AGAIN))
        self.recorder, self.phase, self.on_answer = recorder, phase, on_answer
        self.kept_state: tuple[str, dict] | None = None  # (version cookie, answer): the page script's copy
        self.order_url = ""

    def send(self, method: str, path: str, *, label: str, **options) -> requests.Response:
        """One request to ``path`` (or a whole URL; ``label`` names it in reports); no answer is status 0, as in Locust."""
        url = path if "://" in path else self.base_url + path
        try:
            response = self.session.request(method, url, timeout=TIMEOUT, **options)
        except requests.RequestException:
            response = requests.Response()
            response.status_code = 0
        if self.on_answer is not None:
            self.on_answer(label, response)
        return response

    def page(self, path: str, *, label: str = "") -> str:
        """GET a page as a person would: wait in the room's line until let in; run the page's script."""
        body = self.follow_room(path, label=label or page_name(path), accept=self.accept)
        if self.accept == "text/html":
            self.page_state()
        return body

    def follow_room(self, path: str, *, label: str, accept: str) -> str:
        """GET ``path`` until the shop answers with a page; polls of the room's line are labelled "waiting room".

        After a "too busy" answer the customer reloads once, after the time the shop asked for; a
        second in a row and they leave (GaveUp). nginx's busy page for those in line reloads by itself.
        """
        joined, first, retried, interval = time.time(), None, False, 0.0
        try:
            while True:
                polls = first is not None
                response = self.send("GET", path, label="waiting room" if polls else label, headers={"Accept": accept})
                if polls and response.status_code == 503 and IN_LINE in response.text:
                    time.sleep(float(response.headers.get("Retry-After", 5)))
                    continue
                if response.status_code in (0, 429, 503) and not retried:
                    retried = True
                    time.sleep(min(float(response.headers.get("Retry-After", 5)), 10))
                    continue
                if not answered(response):
                    raise GaveUp(response.status_code)
                retried, waiting = False, in_line(response)
                if waiting is None:
                    break
                if first is None:
                    first = waiting
                    self._count_in_line(+1)
                    self.note("queued", via=self.accept)
                interval = waiting.refresh
                time.sleep(interval)
        except Exception as leaving:  # GaveUp or an error (not Locust ending the run: still in line then)
            if first is not None:
                self._count_in_line(-1)
                why = leaving.args[0] if isinstance(leaving, GaveUp) and leaving.args else type(leaving).__name__
                self.note("left the line", waited=time.time() - joined, why=why, via=self.accept)
            raise
        if first is not None:
            self._count_in_line(-1)
            # Let in some time during the last interval: count half of it, the expected moment.
            waited = time.time() - joined - interval / 2
            self.note("room", waited=waited, estimate=first.estimate, known=first.known, via=self.accept)
        return response.text

    def room_answer(self, *, forwarded_for: str) -> dict:
        """The room's JSON answer to one GET / from ``forwarded_for`` (as nginx adds it), or ``{"status": "admitted"}``."""
        headers = {"Accept": "application/json", "X-Forwarded-For": forwarded_for}
        response = self.send("GET", "/", label="waiting room", headers=headers)
        if not answered(response):
            return {"status": f"http {response.status_code}"}
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return response.json()
        return {"status": "admitted"}

    def page_state(self, *, wait_in_line: bool = False) -> dict | None:
        """What the page script shows (cart count, CSRF token), as shop/static/shop/js/cart-state.js gets it.

        Kept while the shop's version cookie holds the value seen with it. With no version yet (a first
        visit) the script asks only before a form is sent (``wait_in_line``: queued there if the pass lapsed).
        """
        version = self.session.cookies.get(CART_STATE_VERSION_COOKIE)
        if version and self.kept_state and self.kept_state[0] == version:
            return self.kept_state[1]
        if not version and not wait_in_line:
            return None
        label, accept = "cart state (page script)", "application/json"
        if wait_in_line:
            state = json.loads(self.follow_room("/cart/state/", label=label, accept=accept))
        else:
            response = self.send("GET", "/cart/state/", label=label, headers={"Accept": accept})
            state = response.json() if response.status_code == 200 else None
        version = self.session.cookies.get(CART_STATE_VERSION_COOKIE)
        if version and state and "csrfToken" in state:
            self.kept_state = (version, state)
        return state

    def csrf_token(self) -> str:
        """The token the page script puts in forms (cached pages carry none)."""
        return self.page_state(wait_in_line=True)["csrfToken"]

    def post(self, path: str, fields: dict, *, label: str, token: str = "") -> requests.Response:
        """Send a form as the page does, with ``token`` or the one its script fetches now."""
        return self.send("POST", path, label=label, data={"csrfmiddlewaretoken": token or self.csrf_token(), **fields})

    def add_to_cart(self, product_id: str, *, token: str = "") -> requests.Response:
        """Put one of a product in the cart (raises SoldOut if the shop says it is gone)."""
        added = self.post("/cart/add/", {"product_id": product_id, "quantity": 1}, label="add to cart", token=token)
        if added.status_code == 400:  # sold out since the page was cached
            raise SoldOut("add to cart")
        if not answered(added):
            raise GaveUp(added.status_code)
        return added

    def checkout_form(self) -> dict[str, str]:
        """The checkout form's hidden fields, its idempotency key (``token``) among them."""
        fields = dict(HIDDEN_FIELD.findall(self.page("/checkout/", label="checkout form")))
        if "token" not in fields:
            raise GaveUp("no checkout form")
        return fields

    def place_order(
        self, fields: dict[str, str], *, details: dict[str, str] | None = None, read_order: bool = True
    ) -> str:
        """Submit the checkout form, again with the same key while the shop is too busy; the outcome, noted.

        "order" (at ``order_url``; its number read if ``read_order``), "sold_out", "rejected" or "gave_up".
        """
        form = {**fields, **(details or customer_details(self.address or "127.0.0.1"))}
        for attempt in range(1, 4):
            started = time.perf_counter()
            response = self.send("POST", "/checkout/", label="place order", data=form, allow_redirects=False)
            outcome = checkout_outcome(response)
            latency_ms = (time.perf_counter() - started) * 1000
            self.note("checkout", attempt=attempt, status=response.status_code, outcome=outcome, latency_ms=latency_ms)
            if outcome == "order":
                self.order_url = urljoin(self.base_url + "/", response.headers["Location"])
                token = self.order_url.rstrip("/").rsplit("/", 1)[-1]
                number = self.order_number() if read_order else ""
                self.note("buyer", outcome="order", order_token=token, order_number=number)
                return outcome
            if outcome != "retry":
                self.note("buyer", outcome=outcome, status=response.status_code, step="checkout")
                return outcome
            time.sleep(min(float(response.headers.get("Retry-After", 3)), 10))
        self.note("buyer", outcome="gave_up", status=response.status_code, step="checkout")
        return "gave_up"

    def order_number(self) -> str:
        """The order's number as its status page shows it ("" if the page did not answer)."""
        response = self.send("GET", self.order_url, label="order status")
        found = ORDER_NUMBER.search(response.text) if answered(response) else None
        return found.group(0) if found else ""

    def buy(self, product_path: str, *, read_order: bool = True) -> str:
        """Product page, cart, checkout form, order: the outcome ("order", "sold_out", "rejected", "gave_up")."""
        try:
            found = PRODUCT_ID.search(self.page(product_path))
            if found is None:
                raise SoldOut("product page")
            self.add_to_cart(found.group(1))
            return self.place_order(self.checkout_form(), read_order=read_order)
        except SoldOut as sold_out:
            self.note("buyer", outcome="sold_out", step=sold_out.args[0])
            return "sold_out"
        except GaveUp as gave_up:
            self.note("buyer", outcome="gave_up", why=str(gave_up.args[0]) if gave_up.args else "")
            return "gave_up"

    def note(self, kind: str, /, **fields) -> None:
        """Record something this customer saw, with who they are and the phase they arrived in."""
        if self.recorder is not None:
            self.recorder.event(kind, visitor=self.address, phase=self.phase, **fields)

    def _count_in_line(self, change: int) -> None:
        if self.recorder is not None:
            self.recorder.visitors_queued += change
