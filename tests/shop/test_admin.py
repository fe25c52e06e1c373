"""The admin: catalog and orders for staff; stock moves only by adjustments, never by a stale number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db.models.signals import pre_save
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from shop.models import Order, Product
from shop.services.stock import stock_reserve
from tests.factories import CategoryFactory, OrderFactory, OrderLineFactory, ProductFactory
from tests.shop.helpers import product_change_form

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("admin:shop_product_changelist")
ORDERS = reverse("admin:shop_order_changelist")


def stock_of(product: Product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("url", [PRODUCTS, reverse("admin:shop_category_changelist"), ORDERS])
def test_the_changelists_load_for_staff(admin_client, product, url):
    OrderLineFactory(product=product)

    assert admin_client.get(url).status_code == 200


def test_the_product_changelist_runs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for category in [CategoryFactory() for _ in range(3)]:
        ProductFactory.create_batch(10, category=category)

    # the user (the session comes from the cache), the category filter, the filtered and the full count,
    # the page of products joined with their categories: 5, measured with 30 products
    with django_assert_max_num_queries(5):
        response = admin_client.get(PRODUCTS)
    assert response.context["cl"].result_count == 30


def test_the_order_change_page_loads(admin_client, product):
    order = OrderLineFactory(product=product).order

    assert admin_client.get(reverse("admin:shop_order_change", args=[order.pk])).status_code == 200


def test_a_stock_adjustment_adds_to_the_stock(admin_client, product):
    url = reverse("admin:shop_product_change", args=[product.pk])

    response = admin_client.post(url, product_change_form(product, stock_adjustment=5))

    assertRedirects(response, PRODUCTS, fetch_redirect_response=False)
    assert stock_of(product) == 15


def test_a_negative_adjustment_removes_stock(admin_client, product):
    url = reverse("admin:shop_product_change", args=[product.pk])

    admin_client.post(url, product_change_form(product, stock_adjustment=-4))

    assert stock_of(product) == 6


def test_an_adjustment_below_zero_changes_nothing_and_says_why(admin_client, product):
    url = reverse("admin:shop_product_change", args=[product.pk])

    response = admin_client.post(url, product_change_form(product, stock_adjustment=-11, name="Renamed"))

    assert response.status_code == 200  # the form comes back with the error; nothing is saved
    assert "Only 10 units are on hand; you cannot remove 11." in response.content.decode()
    assert stock_of(product) == 10
    product.refresh_from_db()
    assert product.name != "Renamed"


@pytest.mark.parametrize(
    ("adjustment", "message"),
    [
        ("abc", "Enter a whole number."),
        ("2.5", "Enter a whole number."),
        (str(10**30), "Ensure this value is less than or equal to 1000000."),
        (str(-(2**31)), "Ensure this value is greater than or equal to -1000000."),
    ],
    ids=["word", "fraction", "huge", "hugely-negative"],
)
def test_a_malformed_adjustment_is_a_form_error_and_saves_nothing(admin_client, product, adjustment, message):
    url = reverse("admin:shop_product_change", args=[product.pk])

    response = admin_client.post(url, product_change_form(product, name="Renamed", stock_adjustment=adjustment))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["stock_adjustment"] == [message]
    saved = Product.objects.get(pk=product.pk)
    assert (saved.name, saved.stock) == ("Oak Cutting Board", 10)


def test_a_stock_number_posted_with_the_form_is_ignored(admin_client, product):
    url = reverse("admin:shop_product_change", args=[product.pk])

    admin_client.post(url, product_change_form(product, stock=500))

    assert stock_of(product) == 10


def test_saving_a_form_loaded_before_a_checkout_keeps_the_checkouts_reservation(admin_client, product):
    url = reverse("admin:shop_product_change", args=[product.pk])
    assert admin_client.get(url).context["original"].stock == 10
    stock_reserve(product_id=product.pk, quantity=3)  # a customer checks out while the form is open

    admin_client.post(url, product_change_form(product, name="Oak Cutting Board, large"))

    saved = Product.objects.get(pk=product.pk)
    assert (saved.name, saved.stock) == ("Oak Cutting Board, large", 7)


def test_a_reservation_made_while_the_save_is_in_flight_is_kept(admin_client, product):
    def checkout_meanwhile(sender, instance, **kwargs):
        stock_reserve(product_id=instance.pk, quantity=3)

    pre_save.connect(checkout_meanwhile, sender=Product)
    try:
        admin_client.post(
            reverse("admin:shop_product_change", args=[product.pk]),
            product_change_form(product, price=Decimal("21.00")),
        )
    finally:
        pre_save.disconnect(checkout_meanwhile, sender=Product)

    saved = Product.objects.get(pk=product.pk)
    assert (saved.price, saved.stock) == (Decimal("21.00"), 7)


def test_a_new_product_starts_with_its_adjustment_as_stock(admin_client, category):
    data = product_change_form(ProductFactory.build(category=category, slug="linen-apron"), stock_adjustment=12)

    response = admin_client.post(reverse("admin:shop_product_add"), data)

    assert response.status_code == 302
    assert Product.objects.get(slug="linen-apron").stock == 12


def test_mark_shipped_ships_only_confirmed_orders(admin_client):
    orders = {status: OrderFactory(status=status) for status in Order.Status}

    response = admin_client.post(
        ORDERS, {"action": "mark_shipped", "_selected_action": [order.pk for order in orders.values()]}
    )

    assert response.status_code == 302
    statuses = {status: Order.objects.get(pk=order.pk).status for status, order in orders.items()}
    assert statuses == {
        Order.Status.PENDING: Order.Status.PENDING,
        Order.Status.PAID: Order.Status.PAID,
        Order.Status.CONFIRMED: Order.Status.SHIPPED,
        Order.Status.SHIPPED: Order.Status.SHIPPED,
        Order.Status.FAILED: Order.Status.FAILED,
    }
    assert "Marked 1 order(s) as shipped." in messages_of(response)


def test_orders_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:shop_order_add")).status_code == 403


def test_orders_cannot_be_deleted_in_the_admin(admin_client):
    order = OrderFactory()

    page = admin_client.get(reverse("admin:shop_order_delete", args=[order.pk]))
    bulk = admin_client.post(ORDERS, {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"})

    assert page.status_code == 403
    assert bulk.status_code == 302  # refused as an unknown action, back to the list
    assert messages_of(bulk) == ["No action selected."]
    assert Order.objects.filter(pk=order.pk).exists()
    actions = [name for name, _ in admin_client.get(ORDERS).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "mark_shipped" in actions


def test_the_admin_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/admin/")

    assertRedirects(response, "/admin/login/?next=/admin/", fetch_redirect_response=False)


def test_the_admin_refuses_staff_pages_to_anonymous_visitors(client, product):
    response = client.get(reverse("admin:shop_product_change", args=[product.pk]))

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
