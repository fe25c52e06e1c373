"""Whole-page cache keys: the path and the parameters the view reads, nothing a campaign or a stranger adds."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.checks import run_checks
from django.test import Client
from django.urls import path, reverse

from resilience.edgekeys import nginx_page_cache_keys
from resilience.pagecache import cache_public_page
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
CATALOG = reverse("shop:product_list")
CAMPAIGN = {"utm_source": "instagram", "utm_medium": "social", "utm_campaign": "spring", "utm_content": "story"}


def stored_pages() -> int:
    return len(cache.keys("catalog:*"))  # only this run's keys: the prefix is the run's own


def test_an_influencers_tagged_link_is_served_from_the_plain_pages_entry(product, django_assert_num_queries):
    plain = Client().get(product.get_absolute_url())
    stored = stored_pages()

    for click in range(3):
        with django_assert_num_queries(0):
            tagged = Client().get(product.get_absolute_url(), {**CAMPAIGN, "fbclid": f"IwAR{click}x9"})
        assert tagged.content == plain.content
    assert stored_pages() == stored


def test_junk_parameters_add_no_entry_and_change_nothing(product, django_assert_num_queries):
    plain = Client().get(CATALOG)
    stored = stored_pages()

    with django_assert_num_queries(0):
        junk = Client().get(CATALOG, {"junk": "123", "gclid": "abc"})

    assert junk.content == plain.content
    assert stored_pages() == stored


def test_a_parameter_the_view_reads_still_varies_the_page(category):
    ProductFactory(category=category, name="Oak Spoon")
    ProductFactory(category=category, name="Linen Napkin")

    oak = Client().get(CATALOG, {"q": "oak"}).content.decode()
    linen = Client().get(CATALOG, {"q": "linen", "utm_source": "newsletter"}).content.decode()

    assert "Oak Spoon" in oak and "Linen Napkin" not in oak
    assert "Linen Napkin" in linen and "Oak Spoon" not in linen


def test_a_repeated_parameter_is_read_as_its_first_value_so_no_page_is_stored_under_another_key(category):
    ProductFactory(category=category, name="Oak Spoon")
    ProductFactory(category=category, name="Linen Napkin")

    Client().get(f"{CATALOG}?q=oak&q=linen")  # as nginx's $arg_q reads it: oak
    linen = Client().get(CATALOG, {"q": "linen"}).content.decode()

    assert "Linen Napkin" in linen and "Oak Spoon" not in linen


def test_nginx_keys_pages_by_the_same_declarations(settings):
    committed = (ROOT / "deploy" / "nginx" / "page-cache-keys.conf").read_text()

    assert committed == nginx_page_cache_keys(), "run: python manage.py nginx_page_cache_keys > deploy/nginx/page-cache-keys.conf"
    assert '"~^/$" "q=$arg_q&sort=$arg_sort&page=$arg_page";' in committed
    assert '"~^/products/(?:[-a-zA-Z0-9_]+)/$" "";' in committed  # a product page reads no parameter


@cache_public_page("test", query=("q", "utm_source"))
def keyed_by_a_campaign_tag(request):  # pragma: no cover - only its declaration is checked
    raise AssertionError


urlpatterns = [path("tagged/", keyed_by_a_campaign_tag)]


def test_a_cached_page_keyed_by_a_tracking_parameter_fails_the_system_checks(settings):
    settings.ROOT_URLCONF = __name__

    errors = [error for error in run_checks() if error.id == "resilience.E001"]

    assert len(errors) == 1 and "utm_source" in errors[0].msg
