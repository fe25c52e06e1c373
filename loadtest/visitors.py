"""The visitors of `make loadtest`: Locust users of four kinds, mixed by weight, each one customer making one visit.

Here is what each kind chooses and how long it thinks; loadtest/customer.py does it at the shop.
Each has a loopback address of its own (127.x.y.z), as production traffic comes from many, and
draws every choice from its own seeded generator (loadtest/seeds.py): every configuration meets the same visitors.
"""

from __future__ import annotations

import time
import uuid

import gevent
from locust import HttpUser, constant, task

from loadtest.customer import Customer, GaveUp, SoldOut, loopback_addresses
from loadtest.pages import CATEGORY_LINK, PRODUCT_ID, PRODUCT_LINK, Catalog
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
        return self.rng.choice(["/", "/", self.any_category(), self.any_product()])

    def any_category(self) -> str:
        return f"/category/{self.rng.choice(self.catalog.categories)}/"

    def any_product(self) -> str:
        return f"/products/{self.rng.choice(self.catalog.products)}/"

    def token(self) -> str:
        """A random hex string, from the visitor's own generator (unique per visitor and draw)."""
        return uuid.UUID(int=self.rng.getrandbits(128)).hex

    def think(self, low: float = 1.0, high: float = 4.0) -> None:
        gevent.sleep(self.rng.uniform(low, high))


class Browser(Visitor):
    """Looks around: the landing page, then two to five more pages, a search now and then."""

    weight = 60

    def journey(self) -> None:
        html = self.customer.page(self.landing_url())
        for _ in range(self.rng.randint(2, 5)):
            self.think()
            html = self.customer.page(self.next_page(html))

    def next_page(self, html: str) -> str:
        roll = self.rng.random()
        products = PRODUCT_LINK.findall(html)
        if roll < 0.5 and products:
            return self.rng.choice(products)
        if roll < 0.7:
            return self.rng.choice(CATEGORY_LINK.findall(html) or [self.any_category()])
        if roll < 0.85:
            return f"/?q={self.search_words()}"
        return self.rng.choice(["/?page=2", "/?sort=price", "/?sort=newest", "/?sort=-price&page=3"])

    def search_words(self) -> str:
        words = self.rng.sample(self.catalog.words, k=self.rng.choice([1, 1, 2]))
        if self.rng.random() < 0.2:  # a term of the visitor's own, found nowhere
            words.append(self.token()[:6])
        return "+".join(words)


class Shopper(Visitor):
    """Fills a cart, changes it, and leaves without buying."""

    weight = 15

    def journey(self) -> None:
        product_url, product_id = self.choose_product()
        token = self.customer.csrf_token()
        self.think()
        self.customer.post("/cart/add/", {"product_id": product_id, "quantity": 1}, label="add to cart", token=token)
        self.think()
        if self.rng.random() < 0.6:
            self.customer.post(f"/cart/{product_id}/quantity/", {"quantity": 2}, label="change quantity", token=token)
        if self.rng.random() < 0.3:
            self.customer.post(f"/cart/{product_id}/remove/", {}, label="remove from cart", token=token)
        self.think()
        self.customer.page(self.rng.choice([product_url, "/"]))

    def choose_product(self) -> tuple[str, str]:
        """Land, and find a product to buy: the campaign's, or one from the page landed on."""
        url = self.landing_url()
        html = self.customer.page(url)
        if not url.startswith("/products/"):
            url = self.rng.choice(PRODUCT_LINK.findall(html) or [self.any_product()])
            self.think()
            html = self.customer.page(url)
        # How long from arriving to seeing the product, any wait in the room included (sold out or not).
        self.customer.note("product page", seconds=time.time() - self.arrived_at)
        found = PRODUCT_ID.search(html)
        if found is None:
            raise SoldOut("product page")
        return url, found.group(1)


class Buyer(Shopper):
    """Puts one product in the cart and checks out."""

    weight = 20

    def journey(self) -> None:
        try:
            _, product_id = self.choose_product()
            token = self.customer.csrf_token()
            self.think()
            self.customer.add_to_cart(product_id, token=token)
        except SoldOut as sold_out:
            self.customer.note("buyer", outcome="sold_out", step=sold_out.args[0])
            return
        fields = self.customer.checkout_form()
        self.think(3, 8)  # typing in an address
        self.customer.place_order(fields)


class AppUser(Visitor):
    """The shop's mobile app: asks for JSON, so the room answers it with JSON while it waits."""

    weight = 5
    accept = "application/json"

    def journey(self) -> None:
        self.customer.page(self.landing_url())
        for _ in range(self.rng.randint(1, 3)):
            self.think()
            self.customer.page(self.any_product())
