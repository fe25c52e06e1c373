"""The four kinds of visitor, mixed by weight: browsers, shoppers, buyers and app users.

Campaign visitors land on the influencer's product with its tracking tags; the others come in
through the catalog. What they do at the shop is loadtest/customer.py's; what is here is
what each kind chooses to do, and how long it thinks between steps.
"""

from __future__ import annotations

import time

from loadtest.customer import SoldOut
from loadtest.pages import CATEGORY_LINK, PRODUCT_ID, PRODUCT_LINK
from loadtest.visitors import Visitor


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
            url = self.rng.choice(
                PRODUCT_LINK.findall(html) or [f"/products/{self.rng.choice(self.catalog.products)}/"]
            )
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
            self.customer.page(f"/products/{self.rng.choice(self.catalog.products)}/")
