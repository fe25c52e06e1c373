"""A customer's whole visit: browse, add to cart, check out, watch the order get confirmed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from shop.models import Order, Product
from tests.concurrency import wait_until
from tests.factories import ProductFactory
from tests.shop.helpers import checkout_token, submit_checkout


@pytest.mark.django_db(transaction=True)
def test_a_customer_browses_buys_and_sees_the_order_confirmed(client, celery_worker, category, customer):
    ProductFactory.create_batch(3, category=category)
    board = ProductFactory(category=category, name="Walnut Serving Board", slug="walnut-serving-board", stock=4)

    catalog = client.get(reverse("shop:product_list"))
    assert catalog.status_code == 200 and "Walnut Serving Board" in catalog.content.decode()
    category_page = client.get(category.get_absolute_url())
    assert board.get_absolute_url() in category_page.content.decode()
    search = client.get(reverse("shop:product_list"), {"q": "walnut"})
    assert [p.pk for p in search.context["page"].object_list] == [board.pk]
    product_page = client.get(board.get_absolute_url())
    assert "Add to cart" in product_page.content.decode()

    added = client.post(reverse("shop:cart_add"), {"product_id": board.pk, "quantity": 2}, follow=True)
    assert added.context["cart"].item_count == 2
    assert "Added 2 × Walnut Serving Board" in added.content.decode()

    placed = submit_checkout(client, checkout_token(client), customer)
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == order.get_absolute_url()
    assert Product.objects.get(pk=board.pk).stock == 2
    assert client.get(reverse("shop:cart")).context["cart"].lines == []

    assert wait_until(lambda: Order.objects.get(pk=order.pk).status == Order.Status.CONFIRMED)
    status_page = client.get(order.get_absolute_url()).content.decode()
    assert order.number in status_page and "Your order is confirmed" in status_page
    assert len(mail.outbox) == 1 and order.get_absolute_url() in mail.outbox[0].body
