"""The catalog is served from caches, and an edit shows on the very next request."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY

from resilience.cachestore import local_tier, shared_call
from resilience.versions import make_key, namespace_version
from shop.models import Product
from shop.selectors import product_get_by_id
from tests.concurrency import run_concurrently, wait_until
from tests.factories import ProductFactory
from tests.shop.helpers import add_to_cart, checkout_token, product_change_form, submit_checkout

pytestmark = pytest.mark.django_db

CATALOG = reverse("shop:product_list")


def catalog_misses() -> float:
    return REGISTRY.get_sample_value("stampede_cache_requests_total", {"namespace": "catalog", "result": "miss"}) or 0


def catalog_page_is_stale() -> bool:
    """True once the catalog's first page, in the shared cache, is past its "fresh until" time."""
    entry = shared_call("get", make_key("catalog", namespace_version("catalog"), f"page:{CATALOG}?"))
    return entry is not None and entry[1] <= time.time()


def admin_edit(admin_client, product: Product, **changes) -> None:
    response = admin_client.post(
        reverse("admin:shop_product_change", args=[product.pk]), product_change_form(product, **changes)
    )
    assert response.status_code == 302, response.content.decode()[:500]


def test_an_admin_edit_of_a_product_shows_on_the_next_request(
    client, admin_client, product, django_capture_on_commit_callbacks
):
    assert "Oak Cutting Board" in client.get(CATALOG).content.decode()
    assert "Oak Cutting Board" in client.get(product.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        admin_edit(admin_client, product, name="Walnut Cutting Board", price="24.50")

    listing = client.get(CATALOG).content.decode()
    detail = client.get(product.get_absolute_url()).content.decode()
    assert "Walnut Cutting Board" in listing and "Oak Cutting Board" not in listing
    assert "Walnut Cutting Board" in detail and "€24.50" in detail


def test_a_product_hidden_in_the_admin_leaves_the_catalog_at_once(
    client, admin_client, product, django_capture_on_commit_callbacks
):
    client.get(CATALOG)

    with django_capture_on_commit_callbacks(execute=True):
        admin_edit(admin_client, product, is_active="")

    assert "Oak Cutting Board" not in client.get(CATALOG).content.decode()
    assert client.get(product.get_absolute_url()).status_code == 404


def test_a_product_that_sells_out_at_checkout_shows_sold_out_at_once(
    client, category, customer, django_capture_on_commit_callbacks
):
    last_one = ProductFactory(category=category, name="Copper Kettle", stock=1)
    assert "Sold out" not in client.get(last_one.get_absolute_url()).content.decode()
    buyer = Client()
    add_to_cart(buyer, last_one, 1)

    with django_capture_on_commit_callbacks(execute=True):
        submit_checkout(buyer, checkout_token(buyer), customer)

    assert "Sold out" in client.get(last_one.get_absolute_url()).content.decode()


def test_search_results_are_cached_per_query(client, category, django_assert_num_queries):
    ProductFactory(category=category, name="Linen Napkin")
    client.get(CATALOG, {"q": "  LINEN  napkin "})

    with django_assert_num_queries(0):
        response = client.get(CATALOG, {"q": "  LINEN  napkin "})
    assert "Linen Napkin" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_on_an_expired_page_render_it_once(category, settings):
    ProductFactory.create_batch(5, category=category)
    settings.RESILIENCE_PAGE_CACHE_TIMEOUT = 0.2
    Client().get(CATALOG)
    assert wait_until(catalog_page_is_stale, timeout=5)  # the page is now stale in the shared cache...
    local_tier.clear()  # ...and no process holds a copy of its own
    settings.RESILIENCE_PAGE_CACHE_TIMEOUT = 60  # the recomputed page stays fresh through the burst
    misses_before = catalog_misses()

    def visit(_):
        return Client().get(CATALOG).status_code

    statuses = run_concurrently(50, visit)

    assert statuses == [200] * 50
    assert catalog_misses() - misses_before == 1


def test_a_product_is_found_by_id_only_while_it_is_sold(product, category):
    withdrawn = ProductFactory(category=category, is_active=False)

    assert product_get_by_id(product_id=product.pk) == product
    assert product_get_by_id(product_id=withdrawn.pk) is None
    assert product_get_by_id(product_id=product.pk + withdrawn.pk + 1) is None
