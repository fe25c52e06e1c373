"""Checkout: one transaction writes the order and reserves stock; a key makes it idempotent."""

from __future__ import annotations

import uuid

import pytest

from shop.models import Order, OrderLine, Product
from shop.services.checkout import CheckoutConflict, CustomerDetails, EmptyCart, OutOfStock, order_place
from tests.concurrency import run_concurrently
from tests.conftest import CUSTOMER
from tests.factories import ProductFactory


def place(product, quantity=1, key=None):
    customer = CustomerDetails(**CUSTOMER)
    return order_place(idempotency_key=key or uuid.uuid4(), cart={product.pk: quantity}, customer=customer)


@pytest.mark.django_db
def test_placing_an_order_reserves_its_stock_and_records_prices(product):
    order = place(product, quantity=3)

    product.refresh_from_db()
    assert product.stock == 7
    assert order.status == Order.Status.PENDING
    assert order.number.startswith("SP-")
    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.product_name) == (3, product.price, product.name)
    assert order.total == product.price * 3


@pytest.mark.django_db
def test_second_submit_with_the_same_key_returns_the_same_order(product):
    key = uuid.uuid4()
    first = place(product, quantity=2, key=key)
    second = place(product, quantity=2, key=key)

    assert first.pk == second.pk
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 8


@pytest.mark.django_db
def test_same_key_with_a_different_cart_is_refused_and_changes_nothing(product):
    key = uuid.uuid4()
    place(product, quantity=2, key=key)

    with pytest.raises(CheckoutConflict, match="different cart"):
        place(product, quantity=5, key=key)
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 8


@pytest.mark.django_db
def test_out_of_stock_names_the_item_and_writes_nothing(category):
    plenty = ProductFactory(category=category, stock=50)
    scarce = ProductFactory(category=category, name="Copper Kettle", stock=1)
    details = CustomerDetails(**CUSTOMER)

    with pytest.raises(OutOfStock, match="Copper Kettle"):
        order_place(idempotency_key=uuid.uuid4(), cart={plenty.pk: 5, scarce.pk: 2}, customer=details)

    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    assert Product.objects.get(pk=plenty.pk).stock == 50
    assert Product.objects.get(pk=scarce.pk).stock == 1


@pytest.mark.django_db
def test_an_empty_cart_cannot_be_checked_out():
    details = CustomerDetails(**CUSTOMER)
    with pytest.raises(EmptyCart):
        order_place(idempotency_key=uuid.uuid4(), cart={}, customer=details)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_buyers_for_the_last_five_units_make_exactly_five_orders(category):
    product = ProductFactory(category=category, stock=5)

    outcomes = run_concurrently(20, lambda i: place(product, quantity=1))

    orders = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, OutOfStock)]
    assert len(orders) == 5 and len(refusals) == 15, outcomes
    assert Order.objects.count() == 5
    assert Product.objects.get(pk=product.pk).stock == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_with_one_key_make_one_order(category):
    product = ProductFactory(category=category, stock=10)
    key = uuid.uuid4()

    outcomes = run_concurrently(8, lambda i: place(product, quantity=2, key=key))

    assert all(isinstance(outcome, Order) for outcome in outcomes), outcomes
    assert {outcome.pk for outcome in outcomes} == {Order.objects.get().pk}
    assert Product.objects.get(pk=product.pk).stock == 8


@pytest.mark.django_db
def test_stock_can_never_be_written_below_zero_even_bypassing_the_service(product):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=-1)
