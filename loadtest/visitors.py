"""The visitors of `make loadtest`: where they land, what they do, how they follow the room.

Each Locust user is one visitor making one visit, from a loopback address of its own
(127.x.y.z): production traffic comes from many addresses, and nginx and the waiting
room limit each address. HttpUser, not FastHttpUser: geventhttpclient offers no public
way to choose a connection's source address; requests does (requests-toolbelt's
SourceAddressAdapter). A visitor who meets the waiting room waits as told and asks
again until let in; one the shop turns away (429, 503) tries again once, and leaves at
the second refusal in a row, from the line too.
Every choice a visitor makes comes from its own seeded generator (loadtest/seeds.py), so each
configuration of a run meets the same visitors.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import time
import uuid

import gevent
from locust import HttpUser, constant, task
from requests_toolbelt.adapters.source import SourceAddressAdapter

from loadtest.pages import Catalog, page_name
from loadtest.record import Recorder
from loadtest.seeds import Arrivals
from shop.middleware import CART_STATE_VERSION_COOKIE

TIMEOUT = (3.05, 30)  # seconds to connect, then to wait for a page: a person's patience
FIRST_ADDRESS = int(ipaddress.IPv4Address("127.1.0.0"))
_addresses = itertools.count()
IN_LINE = "data-waiting-room="  # the room's page, and nginx's busy page for those in line
CAMPAIGN = "utm_source=instagram&utm_medium=social&utm_campaign=spring-drop&utm_content=story"


def answered(response) -> bool:
    """True for a page or a redirect; Locust reports no answer at all (a timeout) as status 0."""
    return 200 <= response.status_code < 400


class GaveUp(Exception):
    """The visitor leaves: the shop turned them away or did not answer."""


class Visitor(HttpUser):
    abstract = True
    wait_time = constant(0)  # one task, the whole visit; afterwards the visitor idles
    catalog: Catalog  # set by the locustfile
    recorder: Recorder  # set by the locustfile
    arrivals: Arrivals  # set by the locustfile
    think_seconds = (1.0, 4.0)
    accept = "text/html"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Numbered here, as Locust creates users, not in on_start: greenlets may start in another order.
        self.arrival, self.rng = self.arrivals.next(type(self).__name__)
        self.kept_state: tuple[str, dict] | None = None  # (version cookie, answer): the page script's copy

    def on_start(self) -> None:
        self.address = str(ipaddress.IPv4Address(FIRST_ADDRESS + next(_addresses)))
        self.client.mount("http://", SourceAddressAdapter(self.address))
        shape = self.environment.shape_class  # the locustfile's Scenario
        now = shape.get_run_time()
        self.from_campaign = self.rng.random() < shape.profile.campaign_share(now)
        self.phase = shape.profile.phase_at(now)[0].name

    @task
    def visit(self) -> None:
        gevent.sleep(self.rng.random())  # arrivals spread over the second, not all at its start
        self.arrived_at = time.time()
        self.recorder.visitors_arrived += 1
        # Every visitor, bought or not: buying demand counts the buyers who arrived, served or not.
        self.note("arrival", kind=type(self).__name__, index=self.arrival)
        self.recorder.visitors_in_shop += 1
        try:
            self.journey()
        except GaveUp:
            pass
        finally:
            self.recorder.visitors_in_shop -= 1
            self.client.close()
        while True:  # gone: stay an idle user, so the user count stays the number of arrivals
            gevent.sleep(3600)

    def journey(self) -> None:
        raise NotImplementedError

    # --- what every kind of visitor does ---------------------------------------------

    def landing_url(self) -> str:
        """The influencer's link (unique fbclid per click, as social apps add), or an organic entry."""
        if self.from_campaign:
            return f"/products/{self.catalog.featured}/?{CAMPAIGN}&fbclid={self.token()}"
        return self.rng.choice(
            [
                "/",
                "/",
                f"/category/{self.rng.choice(self.catalog.categories)}/",
                f"/products/{self.rng.choice(self.catalog.products)}/",
            ]
        )

    def token(self) -> str:
        """A random hex string, from the visitor's own generator (unique per visitor and draw)."""
        return uuid.UUID(int=self.rng.getrandbits(128)).hex

    def think(self, low: float | None = None, high: float | None = None) -> None:
        gevent.sleep(self.rng.uniform(low or self.think_seconds[0], high or self.think_seconds[1]))

    def page(self, url: str, *, name: str | None = None) -> str:
        """GET a page as a person would: wait in the room until let in; run the page's script."""
        name = name or page_name(url)
        body = self.follow_room(
            lambda poll: self.client.get(
                url, name="waiting room" if poll else name, headers={"Accept": self.accept}, timeout=TIMEOUT
            )
        )
        if self.accept == "text/html":
            self.page_state()
        return body

    def follow_room(self, request) -> str:
        """Send ``request`` until the shop answers with a page, waiting in line as the room asks.

        After a "too busy" answer the visitor presses reload once; a second one in a row and
        they leave, in line or not. nginx's busy page for those in line (they keep their place)
        reloads by itself, as the room's own page does: they wait on, as told.
        """
        joined, first, retried, poll, poll_interval = time.time(), None, False, False, 0.0
        try:
            while True:
                response = request(poll)
                if first is not None and response.status_code == 503 and IN_LINE in response.text:
                    gevent.sleep(float(response.headers.get("Retry-After", 5)))
                    continue
                if response.status_code in (0, 429, 503) and not retried:
                    retried = True  # pressing reload once, after the time the shop asked for
                    gevent.sleep(min(float(response.headers.get("Retry-After", 5)), 10))
                    continue
                if not answered(response):
                    raise GaveUp(response.status_code)
                retried = False
                waiting = self.room_answer(response)
                if waiting is None:
                    if first is not None:
                        self._admitted(joined, first, poll_interval)
                    return response.text
                if first is None:
                    first = waiting
                    self.recorder.visitors_queued += 1
                poll, poll_interval = True, waiting["refresh"]
                gevent.sleep(poll_interval)
        except Exception as leaving:  # GaveUp or an error (not Locust ending the run: still in line then)
            if first is not None:
                self.recorder.visitors_queued -= 1
                why = leaving.args[0] if isinstance(leaving, GaveUp) else type(leaving).__name__
                self.note("left the line", waited=time.time() - joined, why=why, via=self.accept)
            raise

    def room_answer(self, response) -> dict | None:
        """The room's answer if this response is its queue page (or JSON), else None."""
        if response.headers.get("Content-Type", "").startswith("application/json"):
            data = response.json()
            if data.get("status") in ("queued", "prequeued"):
                return {
                    "estimate": data["estimated_wait_seconds"],
                    "known": data["wait_known"],
                    "position": data["position"],
                    "refresh": data["refresh_after_seconds"],
                }
            return None
        text = response.text
        if IN_LINE not in text:
            return None
        estimate = re.search(r'data-estimated-wait-seconds="(\d+)"', text)
        return {
            "estimate": int(estimate.group(1)) if estimate else None,
            "known": "planned pace" not in text,
            "position": None,
            "refresh": float(response.headers.get("Retry-After", 10)),
        }

    def _admitted(self, joined: float, first: dict, poll_interval: float) -> None:
        self.recorder.visitors_queued -= 1
        # Admitted some time during the last interval: count half of it, the expected moment.
        waited = time.time() - joined - poll_interval / 2
        self.note("room", waited=waited, estimate=first["estimate"], known=first["known"], via=self.accept)

    def note(self, kind: str, /, **fields) -> None:
        """Record something this visitor saw, with who they are and the phase they arrived in."""
        self.recorder.event(kind, visitor=self.address, phase=self.phase, **fields)

    def page_state(self, *, wait_in_line: bool = False) -> dict | None:
        """What the page script shows (cart count, CSRF token), as shop/static/shop/js/cart-state.js gets it.

        The answer kept from the last ask while the shop's version cookie still holds the value
        seen with it; with no version yet, nothing on a page view (a first visit: the script asks
        only before a form is sent, ``wait_in_line``); else /cart/state/ is asked. With
        ``wait_in_line``, a visitor whose pass lapsed while reading is queued there, and waits.
        """
        version = self.client.cookies.get(CART_STATE_VERSION_COOKIE)
        if version and self.kept_state and self.kept_state[0] == version:
            return self.kept_state[1]
        if not version and not wait_in_line:
            return None

        def ask(poll: bool = False):
            name = "waiting room" if poll else "cart state (page script)"
            return self.client.get("/cart/state/", name=name, headers={"Accept": "application/json"}, timeout=TIMEOUT)

        if wait_in_line:
            state = json.loads(self.follow_room(ask))
        else:
            response = ask()
            state = response.json() if response.status_code == 200 else None
        version = self.client.cookies.get(CART_STATE_VERSION_COOKIE)
        if version and state and "csrfToken" in state:
            self.kept_state = (version, state)
        return state

    def csrf_token(self) -> str:
        """The token the page script puts in forms (cached pages carry none)."""
        return self.page_state(wait_in_line=True)["csrfToken"]

    def post(self, url: str, data: dict, *, name: str, **options):
        return self.client.post(url, data=data, name=name, timeout=TIMEOUT, **options)
