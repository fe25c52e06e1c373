"""Cart and checkout as a state machine, on the real PostgreSQL with real commits.

Two shoppers add, change, remove, open checkout and submit (good details or bad, fresh
tokens, replayed or forged ones) while a product may be withdrawn. After every step: no
5xx, stock never below zero and conserved (shelf + ordered = initial), every order whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from config.celery import app as celery_app
from shop.forms import CartQuantityForm, CheckoutForm
from shop.models import Order, OrderLine, Product
from shop.selectors import cart_fingerprint
from tests.conftest import CUSTOMER
from tests.factories import ProductFactory
from tests.properties.expect import answered, cart_of
from tests.properties.strategies import TRICKY
from tests.shop.helpers import TOKEN_PATTERN

SHELF = (2, 3, 5)  # small stock, so shoppers run out and compete for the last units
# Mostly what a shopper types (one_of picks each branch alike), so carts fill and orders are
# placed; sometimes over the limits, sometimes anything at all.
typed = st.integers(min_value=1, max_value=3).map(str)
quantities = st.one_of(typed, typed, typed, st.integers(min_value=-1, max_value=22).map(str), st.sampled_from(TRICKY))
details = st.one_of(
    st.just(CUSTOMER),
    st.sampled_from([{**CUSTOMER, "email": "nope"}, {**CUSTOMER, "city": " "}, {**CUSTOMER, "full_name": "A\x00"}]),
)


@dataclass
class Shopper:
    client: Client = field(default_factory=Client)
    cart: dict[int, int] = field(default_factory=dict)  # what the session should hold
    token: str | None = None  # from the checkout page last opened
    used: dict[str, Order] = field(default_factory=dict)  # tokens that placed an order


class CartAndCheckout(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.products = [ProductFactory(stock=units) for units in SHELF]
        self.initial = {product.pk: product.stock for product in self.products}
        self.pks = list(self.initial)
        self.active = set(self.pks)
        self.shoppers = [Shopper(), Shopper()]

    # --- the shoppers' steps ---------------------------------------------------------------

    @initialize(first=typed, second=typed)
    def both_want_the_scarcest_product(self, first: str, second: str) -> None:
        """Both carts start with some of the 2 units of one product: not both can have them."""
        self.add(0, 0, first)
        self.add(1, 0, second)

    @rule(who=st.integers(0, 1), which=st.integers(0, len(SHELF) - 1), quantity=quantities)
    def add(self, who: int, which: int, quantity: str) -> None:
        shopper, pid = self.shoppers[who], self.products[which].pk
        response = shopper.client.post(reverse("shop:cart_add"), {"product_id": pid, "quantity": quantity})
        wanted = self._quantity(quantity)
        if wanted is not None and self._sellable(pid, shopper.cart.get(pid, 0) + wanted):
            answered(response, 302)
            shopper.cart[pid] = shopper.cart.get(pid, 0) + wanted
        else:
            answered(response, 400)

    @rule(who=st.integers(0, 1), which=st.integers(0, len(SHELF) - 1), quantity=quantities)
    def change(self, who: int, which: int, quantity: str) -> None:
        shopper, pid = self.shoppers[who], self.products[which].pk
        response = shopper.client.post(reverse("shop:cart_update", args=[pid]), {"quantity": quantity})
        wanted = self._quantity(quantity)
        if wanted is not None and pid in shopper.cart and self._sellable(pid, wanted):
            answered(response, 302)
            shopper.cart[pid] = wanted
        else:
            answered(response, 400)

    @rule(who=st.integers(0, 1), which=st.integers(0, len(SHELF) - 1))
    def remove(self, who: int, which: int) -> None:
        shopper, pid = self.shoppers[who], self.products[which].pk
        answered(shopper.client.post(reverse("shop:cart_remove", args=[pid])), 302)
        shopper.cart.pop(pid, None)

    @rule(who=st.integers(0, 1))
    def open_checkout(self, who: int) -> None:
        shopper = self.shoppers[who]
        response = shopper.client.get(reverse("shop:checkout"))
        if self._live(shopper.cart):
            answered(response, 200)
            shopper.token = TOKEN_PATTERN.search(response.content.decode()).group(1)
        else:
            answered(response, 302)

    @rule(who=st.integers(0, 1))
    def check_out(self, who: int) -> None:
        """Open checkout and submit it at once with good details: the usual way to buy."""
        self.open_checkout(who)
        shopper = self.shoppers[who]
        if shopper.token:
            self.submit(who, CUSTOMER, "fresh")

    @precondition(lambda self: any(shopper.token for shopper in self.shoppers))
    @rule(who=st.integers(0, 1), customer=details, token=st.sampled_from(["fresh", "forged", "other shopper's"]))
    def submit(self, who: int, customer: dict[str, str], token: str) -> None:
        shopper = self.shoppers[who]
        sent = {
            "fresh": shopper.token,
            "forged": (shopper.token or "x") + "0",
            "other shopper's": self.shoppers[1 - who].token,
        }[token]
        orders_before, shelf = Order.objects.count(), self._shelf()
        response = shopper.client.post(reverse("shop:checkout"), {**customer, "token": sent or ""})
        if token != "fresh" or sent is None or customer != CUSTOMER:
            answered(response, 400)  # a token is good in its own session only
            assert Order.objects.count() == orders_before
            return
        self._placed_or_not(shopper, sent, response, orders_before, shelf)

    @precondition(lambda self: any(shopper.used for shopper in self.shoppers))
    @rule(who=st.integers(0, 1))
    def submit_again(self, who: int) -> None:
        """A double click, a retry, the back button: an old token never orders twice."""
        shopper = self.shoppers[who]
        if not shopper.used:
            return
        token, order = next(iter(shopper.used.items()))
        orders_before = Order.objects.count()
        response = shopper.client.post(reverse("shop:checkout"), {**CUSTOMER, "token": token})
        live = self._live(shopper.cart)
        if not live or cart_fingerprint(live) == order.cart_fingerprint:
            answered(response, 302)
            assert response["Location"] == order.get_absolute_url()
            shopper.cart.clear()
        else:
            answered(response, 409)
        assert Order.objects.count() == orders_before

    @precondition(lambda self: len(self.active) == len(SHELF))
    @rule(which=st.integers(0, len(SHELF) - 1))
    def withdraw(self, which: int) -> None:
        """The shop stops selling a product that may sit in carts."""
        Product.objects.filter(pk=self.products[which].pk).update(is_active=False)
        self.active.discard(self.products[which].pk)

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def stock_is_never_negative_and_always_conserved(self) -> None:
        shelf = self._shelf()
        ordered = dict.fromkeys(self.pks, 0)
        for pid, quantity in (
            OrderLine.objects.filter(product__in=self.pks)
            .exclude(order__status=Order.Status.FAILED)
            .values_list("product_id", "quantity")
        ):
            ordered[pid] += quantity
        assert all(units >= 0 for units in shelf.values()), shelf
        assert {pid: shelf[pid] + ordered[pid] for pid in self.pks} == self.initial

    @invariant()
    def every_order_is_whole(self) -> None:
        for order in Order.objects.filter(lines__product__in=self.pks).distinct().prefetch_related("lines"):
            lines = list(order.lines.all())
            assert lines and all(line.quantity > 0 for line in lines)
            assert order.total == sum(line.line_total for line in lines)

    @invariant()
    def each_session_holds_what_its_shopper_put_in(self) -> None:
        for shopper in self.shoppers:
            assert cart_of(shopper.client) == shopper.cart

    def teardown(self) -> None:
        # Each example starts from a full shelf: take away what this one made.
        Order.objects.filter(lines__product__in=self.pks).delete()
        Product.objects.filter(pk__in=self.pks).delete()

    # --- the model ---------------------------------------------------------------------------

    def _quantity(self, text: str) -> int | None:
        form = CartQuantityForm({"quantity": text})
        return form.cleaned_data["quantity"] if form.is_valid() else None

    def _shelf(self) -> dict[int, int]:
        return dict(Product.objects.filter(pk__in=self.pks).values_list("pk", "stock"))

    def _stock(self, pid: int) -> int:
        return Product.objects.get(pk=pid).stock

    def _sellable(self, pid: int, quantity: int) -> bool:
        return pid in self.active and quantity <= self._stock(pid)

    def _live(self, cart: dict[int, int]) -> dict[int, int]:
        """What checkout sees of a cart: withdrawn products drop out."""
        return {pid: quantity for pid, quantity in cart.items() if pid in self.active}

    def _placed_or_not(self, shopper: Shopper, token: str, response, orders_before: int, shelf: dict[int, int]) -> None:
        """Check a good submit's outcome against the cart and the shelf as they were before it."""
        live = self._live(shopper.cart)
        if not live or any(quantity > shelf[pid] for pid, quantity in live.items()):
            answered(response, 302)  # back to the cart, which says why
            assert response["Location"] == reverse("shop:cart")
            assert Order.objects.count() == orders_before
            return
        answered(response, 302)
        order = Order.objects.get(idempotency_key=self._key(shopper, token))
        assert response["Location"] == order.get_absolute_url()
        assert {line.product_id: line.quantity for line in order.lines.all()} == live
        shopper.used[token] = order
        shopper.cart.clear()
        shopper.token = None

    def _key(self, shopper: Shopper, token: str):
        form = CheckoutForm({**CUSTOMER, "token": token}, session_key=shopper.client.session.session_key)
        assert form.is_valid(), form.errors
        return form.cleaned_data["token"]


@pytest.fixture
def queue_purged() -> Iterator[None]:
    """Orders placed here queue real tasks; no later test's worker should meet them."""
    yield
    celery_app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_cart_and_checkout_never_fail_never_split_an_order_and_never_lose_stock(queue_purged):
    run_state_machine_as_test(
        CartAndCheckout, settings=settings(max_examples=min(settings.default.max_examples, 30), stateful_step_count=25)
    )
