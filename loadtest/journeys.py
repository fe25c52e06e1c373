"""The four kinds of visitor, mixed by weight: browsers, shoppers, buyers and app users.

Campaign visitors land on the influencer's product with its tracking tags; the others
come in through the catalog. Buyers check out through the real forms: the CSRF token
the page script fetches, the checkout form's signed idempotency key, and a resubmission
with the same key when the shop was too busy to answer.
"""

from __future__ import annotations

import time

import gevent

from loadtest.pages import (
    CATEGORY_LINK,
    HIDDEN_FIELD,
    ORDER_NUMBER,
    PRODUCT_ID,
    PRODUCT_LINK,
    RETRYABLE,
    customer_details,
)
from loadtest.visitors import TIMEOUT, GaveUp, Visitor, answered


class SoldOut(GaveUp):
    """The product page offers nothing to buy."""


class Browser(Visitor):
    """Looks around: the landing page, then two to five more pages, a search now and then."""

    weight = 60

    def journey(self) -> None:
        html = self.page(self.landing_url())
        for _ in range(self.rng.randint(2, 5)):
            self.think()
            html = self.page(self.next_page(html))

    def next_page(self, html: str) -> str:
        roll = self.rng.random()
        products = PRODUCT_LINK.findall(html)
        if roll < 0.5 and products:
            return self.rng.choice(products)
        if roll < 0.7:
            return self.rng.choice(
                CATEGORY_LINK.findall(html) or [f"/category/{self.rng.choice(self.catalog.categories)}/"]
            )
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
        token = self.csrf_token()
        self.think()
        self.post(
            "/cart/add/", {"csrfmiddlewaretoken": token, "product_id": product_id, "quantity": 1}, name="add to cart"
        )
        self.think()
        if self.rng.random() < 0.6:
            self.post(
                f"/cart/{product_id}/quantity/", {"csrfmiddlewaretoken": token, "quantity": 2}, name="change quantity"
            )
        if self.rng.random() < 0.3:
            self.post(f"/cart/{product_id}/remove/", {"csrfmiddlewaretoken": token}, name="remove from cart")
        self.think()
        self.page(self.rng.choice([product_url, "/"]))

    def choose_product(self) -> tuple[str, str]:
        """Land, and find a product to buy: the campaign's, or one from the page landed on."""
        url = self.landing_url()
        html = self.page(url)
        if not url.startswith("/products/"):
            url = self.rng.choice(
                PRODUCT_LINK.findall(html) or [f"/products/{self.rng.choice(self.catalog.products)}/"]
            )
            self.think()
            html = self.page(url)
        # How long from arriving to seeing the product, any wait in the room included (sold out or not).
        self.note("product page", seconds=time.time() - self.arrived_at)
        found = PRODUCT_ID.search(html)
        if found is None:
            raise SoldOut(url)
        return url, found.group(1)


class Buyer(Shopper):
    """Puts one product in the cart and checks out."""

    weight = 20

    def journey(self) -> None:
        try:
            _, product_id = self.choose_product()
        except SoldOut:
            self.note("buyer", outcome="sold_out", step="product page")
            return
        token = self.csrf_token()
        self.think()
        added = self.post(
            "/cart/add/", {"csrfmiddlewaretoken": token, "product_id": product_id, "quantity": 1}, name="add to cart"
        )
        if added.status_code == 400:  # sold out since the page was cached
            self.note("buyer", outcome="sold_out", step="add to cart")
            return
        if not answered(added):
            raise GaveUp(added.status_code)
        fields = dict(HIDDEN_FIELD.findall(self.page("/checkout/", name="checkout form")))
        if "token" not in fields:
            raise GaveUp("no checkout form")
        self.think(3, 8)  # typing in an address
        self.place_order(fields)

    def place_order(self, fields: dict[str, str]) -> None:
        """Submit the checkout form; when the shop is too busy to answer, submit it again (same key)."""
        form = {**fields, **customer_details(self.address)}
        for attempt in range(1, 4):
            started = time.perf_counter()
            response = self.post("/checkout/", form, name="place order", allow_redirects=False)
            outcome = checkout_outcome(response)
            self.note(
                "checkout",
                attempt=attempt,
                status=response.status_code,
                outcome=outcome,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
            if outcome == "order":
                self.read_order(response.headers["Location"])
                return
            if outcome != "retry":
                self.note("buyer", outcome=outcome, status=response.status_code, step="checkout")
                return
            gevent.sleep(min(float(response.headers.get("Retry-After", 3)), 10))
        self.note("buyer", outcome="gave_up", status=response.status_code, step="checkout")

    def read_order(self, location: str) -> None:
        token = location.rstrip("/").rsplit("/", 1)[-1]
        response = self.client.get(location, name="order status", timeout=TIMEOUT)
        found = ORDER_NUMBER.search(response.text) if answered(response) else None
        self.note("buyer", outcome="order", order_token=token, order_number=found.group(0) if found else "")


def checkout_outcome(response) -> str:
    """What the shop said to a checkout: an order, sold out (back to the cart), too busy, or no."""
    if response.status_code == 302:
        return "order" if "/orders/" in response.headers.get("Location", "") else "sold_out"
    return "retry" if response.status_code in RETRYABLE else "rejected"


class AppUser(Visitor):
    """The shop's mobile app: asks for JSON, so the room answers it with JSON while it waits."""

    weight = 5
    accept = "application/json"

    def journey(self) -> None:
        self.page(self.landing_url())
        for _ in range(self.rng.randint(1, 3)):
            self.think()
            self.page(f"/products/{self.rng.choice(self.catalog.products)}/")
