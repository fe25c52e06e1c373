"""Catalog filters, search and pagination: any query string is a page, a clear 400 or a 404."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from shop.forms import CatalogQueryForm
from tests.properties.expect import answered, refused_in_words
from tests.properties.strategies import any_text, hostile, path_segment, query_strings

pytestmark = pytest.mark.django_db

CATALOG_QUERY = tuple(CatalogQueryForm.base_fields)  # q, sort, page
NO_SUCH_AISLE = "/category/no-such-aisle/"
LISTINGS = st.sampled_from(["/", "/category/kitchen/", NO_SUCH_AISLE])  # the one product is in the kitchen


def first_values(query_string: str) -> dict[str, str]:
    """What the view reads of a query string: the first value of each of its own names."""
    parsed = QueryDict(query_string)
    return {name: parsed.getlist(name)[0] for name in CATALOG_QUERY if parsed.getlist(name)}


@given(listing=LISTINGS, query=query_strings(CATALOG_QUERY))
@example(listing="/", query="page=99999999999999999999999")
@example(listing="/", query="q=%00")
@example(listing="/", query="page=%D9%A3")  # an Arabic-Indic 3: int() reads it
@example(listing="/", query="sort=price&sort=-price&page=0&page=1")
def test_any_query_string_lists_products_refuses_in_words_or_is_not_found(client, product, listing, query):
    response = client.get(f"{listing}?{query}")

    form = CatalogQueryForm(first_values(query))
    if not form.is_valid():
        refused_in_words(response, "That search or page is not valid.")
    elif listing == NO_SUCH_AISLE or (form.cleaned_data["page"] or 1) > 1:  # one product: one page
        answered(response, 404)
    else:
        answered(response, 200)


@given(q=hostile, sort=hostile, page=hostile)
def test_search_sort_and_page_each_take_any_value_without_a_server_error(client, product, q, sort, page):
    response = client.get(reverse("shop:product_list"), {"q": q, "sort": sort, "page": page})

    answered(response, 200, 400, 404)


@given(
    prefix=st.sampled_from(["/products/", "/category/"]),
    slug=st.one_of(any_text, st.sampled_from(["oak-cutting-board", "kitchen"])),
)
@example(prefix="/products/", slug="\x00")
@example(prefix="/category/", slug="kitchen" * 100)
def test_any_product_or_category_address_is_its_page_or_a_404(client, product, prefix, slug):
    response = client.get(f"{prefix}{path_segment(slug)}/")

    exists = {"/products/": "oak-cutting-board", "/category/": "kitchen"}[prefix] == slug
    answered(response, 200 if exists else 404)
