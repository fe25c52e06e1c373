"""The load test's audit: it finds every way an order can go wrong, and passes an honest run."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.mail import send_mail

from loadtest.audit import check, prepare
from shop.models import Order, Product
from shop.payments import FakeGateway
from shop.services.checkout import CustomerDetails, order_place
from shop.services.orders import order_process
from tests.conftest import CUSTOMER
from tests.factories import CategoryFactory, OrderLineFactory, ProductFactory

BUYER = CustomerDetails(**CUSTOMER)


@pytest.fixture
def shop(settings, tmp_path, django_capture_on_commit_callbacks):
    """A small catalog, the file email backend and a ledger file, as a stack has them; the run's folders."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.SHOP_FAKE_PAYMENT_LEDGER = str(tmp_path / "payments.sqlite3")
    fitness = CategoryFactory(name="Fitness", slug="fitness")
    featured = ProductFactory(category=fitness, stock=3)
    other = ProductFactory(category=fitness, stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        prepare(tmp_path / "run", featured_stock=10)
    return {"folder": tmp_path / "run", "record": tmp_path / "record", "featured": featured, "other": other}


def buy(shop: dict, product: Product, quantity: int = 1, *, shown: bool = True) -> Order:
    """A buyer checks out and the worker processes the order; the buyer saw it unless ``shown`` is False."""
    order = order_place(idempotency_key=uuid.uuid4(), cart={product.pk: quantity}, customer=BUYER)
    order_process(order_id=order.pk)
    if shown:
        saw(shop, order.access_token)
    return order


def saw(shop: dict, token: str) -> None:
    shop["record"].mkdir(exist_ok=True)
    with (shop["record"] / "events.jsonl").open("a") as events:
        events.write(json.dumps({"type": "buyer", "outcome": "order", "order_token": token, "at": 0}) + "\n")


def audit(shop: dict) -> dict:
    return check(shop["folder"], shop["record"], settle_seconds=1)


@pytest.mark.django_db
def test_preparing_gives_the_featured_product_its_stock_and_writes_what_visitors_know(shop):
    catalog = json.loads((shop["folder"] / "catalog.json").read_text())

    assert Product.objects.get(pk=shop["featured"].pk).stock == 10
    assert catalog["featured"] == shop["featured"].slug
    assert "fitness" in catalog["categories"]
    assert "product" in catalog["words"]  # the factories name products "Product <n>"


@pytest.mark.django_db
def test_preparing_a_capacity_run_stocks_every_product_and_counts_that_as_the_stock_before(shop, tmp_path):
    ProductFactory(category=shop["featured"].category, stock=200)

    prepare(tmp_path / "ramp", featured_stock=10, catalog_stock=50)

    stocks = dict(Product.objects.values_list("id", "stock"))
    before = json.loads((tmp_path / "ramp" / "before.json").read_text())
    assert stocks[shop["featured"].pk] == 50 and stocks[shop["other"].pk] == 50
    assert sorted(stocks.values()) == [50, 50, 200]  # nothing taken from a product that had more
    assert before["stock"] == {str(pk): stock for pk, stock in stocks.items()}


@pytest.mark.django_db
def test_an_honest_run_passes_every_check(shop):
    buy(shop, shop["featured"], 2)
    buy(shop, shop["other"])

    result = audit(shop)

    assert result["orders"] == result["orders_shown_to_buyers"] == 2
    assert result["orders_by_status"] == {"confirmed": 2}
    assert [
        result[key]
        for key in (
            "orders_lost",
            "orders_unsettled",
            "duplicate_charges",
            "duplicate_emails",
            "confirmed_without_charge",
            "confirmed_without_email",
            "oversold",
        )
    ] == [0] * 7
    assert result["stock_not_conserved"] == []
    assert (result["featured_sold"], result["featured_stock_left"]) == (2, 8)


@pytest.mark.django_db
def test_an_order_a_buyer_was_shown_that_the_database_lacks_is_lost(shop):
    saw(shop, "no-such-order")

    assert audit(shop)["orders_lost"] == 1


@pytest.mark.django_db
def test_an_order_still_pending_is_unsettled(shop):
    order_place(idempotency_key=uuid.uuid4(), cart={shop["other"].pk: 1}, customer=BUYER)

    assert audit(shop)["orders_unsettled"] == 1


@pytest.mark.django_db
def test_a_second_charge_for_an_order_under_another_key_is_a_duplicate(shop):
    order = buy(shop, shop["other"])
    FakeGateway().charge(
        idempotency_key=str(uuid.uuid4()), amount=order.total, currency="EUR", description=f"Order {order.number}"
    )

    assert audit(shop)["duplicate_charges"] == 1


@pytest.mark.django_db
def test_a_second_confirmation_email_is_a_duplicate(shop):
    order = buy(shop, shop["other"])
    send_mail(f"Your Stampede order {order.number} is confirmed", "again", None, [order.email])

    assert audit(shop)["duplicate_emails"] == 1


@pytest.mark.django_db
def test_a_failed_order_that_kept_its_stock_breaks_conservation(shop):
    order = buy(shop, shop["other"], 2)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FAILED)  # failed, stock never put back

    assert audit(shop)["stock_not_conserved"] == [shop["other"].pk]


@pytest.mark.django_db
def test_more_sold_than_there_was_is_oversold(shop):
    order = buy(shop, shop["other"])
    OrderLineFactory(order=order, product=shop["featured"], quantity=11)  # 10 on the shelf

    result = audit(shop)

    assert result["oversold"] == 1
    assert shop["featured"].pk in result["stock_not_conserved"]
