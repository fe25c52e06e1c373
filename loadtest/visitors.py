"""The visitors of `make loadtest`: Locust users, each one customer (loadtest/customer.py) making one visit.

Each has a loopback address of its own (127.x.y.z), as production traffic comes from many
addresses. Every choice a visitor makes comes from its own seeded generator
(loadtest/seeds.py), so each configuration of a run meets the same visitors.
"""

from __future__ import annotations

import time
import uuid

import gevent
from locust import HttpUser, constant, task

from loadtest.customer import Customer, GaveUp, loopback_addresses
from loadtest.pages import Catalog
from loadtest.record import Recorder
from loadtest.seeds import Arrivals

next_address = loopback_addresses("127.1.0.0")
CAMPAIGN = "utm_source=instagram&utm_medium=social&utm_campaign=spring-drop&utm_content=story"


class TimedCustomer(Customer):
    """A customer whose requests Locust times, each under its label."""

    def send(self, method: str, path: str, *, label: str, **options):
        return super().send(method, path, label=label, name=label, **options)


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

    def on_start(self) -> None:
        shape = self.environment.shape_class  # the locustfile's Scenario
        now = shape.get_run_time()
        self.from_campaign = self.rng.random() < shape.profile.campaign_share(now)
        self.customer = TimedCustomer(
            address=next_address(),
            session=self.client,
            accept=self.accept,
            recorder=self.recorder,
            phase=shape.profile.phase_at(now)[0].name,
        )

    @task
    def visit(self) -> None:
        gevent.sleep(self.rng.random())  # arrivals spread over the second, not all at its start
        self.arrived_at = time.time()
        self.recorder.visitors_arrived += 1
        # Every visitor, bought or not: buying demand counts the buyers who arrived, served or not.
        self.customer.note("arrival", kind=type(self).__name__, index=self.arrival)
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
