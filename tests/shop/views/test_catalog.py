"""Catalog: list, category, search, sort and paging; bad parameters are refused in words; queries stay bounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import CategoryFactory, ProductFactory
from tests.shop.helpers import add_to_cart

pytestmark = pytest.mark.django_db

CATALOG = reverse("shop:product_list")


def names(response) -> list[str]:
    return [product.name for product in response.context["page"].object_list]


@pytest.fixture
def thirty_products_in_three_categories():
    categories = [CategoryFactory(name=name, slug=name.lower()) for name in ("Bath", "Garden", "Kitchen")]
    return [ProductFactory(category=categories[index % 3]) for index in range(30)]


def test_the_catalog_lists_active_products_by_name(client, category):
    ProductFactory(category=category, name="Whisk")
    ProductFactory(category=category, name="Apron")

    response = client.get(CATALOG)

    assert response.status_code == 200
    assert names(response) == ["Apron", "Whisk"]
    assert response.context["page"].count == 2


def test_inactive_products_are_hidden_from_the_list_search_and_their_page(client, category):
    ProductFactory(category=category, name="Steel Whisk")
    retired = ProductFactory(category=category, name="Steel Kettle", slug="steel-kettle", is_active=False)

    assert names(client.get(CATALOG)) == ["Steel Whisk"]
    assert names(client.get(category.get_absolute_url())) == ["Steel Whisk"]
    assert names(client.get(CATALOG, {"q": "kettle"})) == []
    assert client.get(retired.get_absolute_url()).status_code == 404


def test_a_category_page_shows_only_that_categorys_products(client, category):
    ProductFactory(category=category, name="Saucepan")
    ProductFactory(category=CategoryFactory(name="Garden", slug="garden"), name="Trowel")

    response = client.get(category.get_absolute_url())

    assert response.status_code == 200
    assert response.context["category"] == category
    assert names(response) == ["Saucepan"]


def test_search_matches_words_in_name_or_description_ignoring_case(client, category):
    ProductFactory(category=category, name="Oak Cutting Board", description="Solid wood.")
    ProductFactory(category=category, name="Bread Knife", description="Cuts through an OAK-crusted loaf.")
    ProductFactory(category=category, name="Steel Whisk", description="Beats eggs.")

    assert names(client.get(CATALOG, {"q": "oak"})) == ["Bread Knife", "Oak Cutting Board"]
    assert names(client.get(CATALOG, {"q": "  BOARD  "})) == ["Oak Cutting Board"]


def test_every_search_word_must_match_somewhere(client, category):
    ProductFactory(category=category, name="Oak Cutting Board", description="Solid wood.")
    ProductFactory(category=category, name="Oak Spoon", description="Carved by hand.")

    assert names(client.get(CATALOG, {"q": "oak wood"})) == ["Oak Cutting Board"]
    assert names(client.get(CATALOG, {"q": "oak steel"})) == []


def test_search_treats_sql_wildcards_as_plain_characters(client, category):
    ProductFactory(category=category, name="Oak Cutting Board")

    response = client.get(CATALOG, {"q": "%"})

    assert response.status_code == 200
    assert names(response) == []


def test_search_inside_a_category_stays_in_that_category(client, category):
    ProductFactory(category=category, name="Oak Board")
    ProductFactory(category=CategoryFactory(name="Garden", slug="garden"), name="Oak Planter")

    assert names(client.get(category.get_absolute_url(), {"q": "oak"})) == ["Oak Board"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Apron", "Kettle", "Whisk"]),
        ("price", ["Whisk", "Apron", "Kettle"]),
        ("-price", ["Kettle", "Apron", "Whisk"]),
        ("newest", ["Apron", "Whisk", "Kettle"]),
    ],
)
def test_each_sort_option_orders_the_list(client, category, sort, expected):
    ProductFactory(category=category, name="Kettle", price=Decimal("40.00"))
    ProductFactory(category=category, name="Whisk", price=Decimal("5.00"))
    ProductFactory(category=category, name="Apron", price=Decimal("12.50"))

    assert names(client.get(CATALOG, {"sort": sort})) == expected


def test_pages_split_the_list_and_a_page_beyond_the_last_is_not_found(client, category, settings):
    settings.SHOP_PRODUCTS_PER_PAGE = 2
    for name in ("A", "B", "C", "D", "E"):
        ProductFactory(category=category, name=name)

    assert names(client.get(CATALOG, {"page": 1})) == ["A", "B"]
    last = client.get(CATALOG, {"page": 3})
    assert names(last) == ["E"]
    assert (last.context["page"].number, last.context["page"].num_pages) == (3, 3)
    beyond = client.get(CATALOG, {"page": 4})
    assertContains(beyond, "Page not found", status_code=404)


def test_an_empty_category_has_one_empty_page_and_no_second(client, category):
    assert names(client.get(category.get_absolute_url())) == []
    assert client.get(category.get_absolute_url(), {"page": 2}).status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "two"}, "whole number from 1 to 10000"),
        ({"page": "-1"}, "whole number from 1 to 10000"),
        ({"page": "0"}, "whole number from 1 to 10000"),
        ({"page": "1.5"}, "whole number from 1 to 10000"),
        ({"page": str(10**30)}, "whole number from 1 to 10000"),
        ({"sort": "price; DROP TABLE shop_product"}, "Sort by one of: name, price"),
        ({"sort": "stock"}, "Sort by one of: name, price"),
        ({"q": "x" * 101}, "at most 100 characters"),
        ({"q": "oak\x00"}, "Null characters are not allowed."),
    ],
    ids=[
        "page-word",
        "page-negative",
        "page-zero",
        "page-decimal",
        "page-huge",
        "sort-injection",
        "sort-unknown",
        "q-too-long",
        "q-null-byte",
    ],
)
def test_bad_catalog_parameters_are_refused_with_a_clear_message(client, category, params, message):
    ProductFactory(category=category)

    for url in (CATALOG, category.get_absolute_url()):
        response = client.get(url, params)

        assertContains(response, "That search or page is not valid", status_code=400)
        assertContains(response, message, status_code=400)
        assertNotContains(response, "Traceback", status_code=400)


def test_a_search_of_exactly_one_hundred_characters_is_allowed(client, category):
    assert client.get(CATALOG, {"q": "x" * 100}).status_code == 200


@pytest.mark.parametrize("path", ["/category/no-such-category/", "/products/no-such-product/", "/no/such/page/"])
def test_unknown_pages_answer_404_with_the_shops_own_page(client, category, path):
    response = client.get(path)

    assertContains(response, "Page not found", status_code=404)
    assertNotContains(response, "Traceback", status_code=404)
    assert "shop/error.html" in [template.name for template in response.templates]


def test_a_product_page_shows_name_and_price_and_offers_add_to_cart(client, product):
    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    assertContains(response, "Oak Cutting Board")
    assertContains(response, "€19.90")
    assertContains(response, f'action="{reverse("shop:cart_add")}"')


def test_a_sold_out_product_page_offers_no_add_to_cart_form(client, category):
    sold_out = ProductFactory(category=category, stock=0)

    response = client.get(sold_out.get_absolute_url())

    assert response.status_code == 200
    assertNotContains(response, f'action="{reverse("shop:cart_add")}"')


# --- Query budgets: a fixed number per page, whatever the number of products shown ---------


def test_the_catalog_list_runs_three_queries_however_many_products_it_shows(
    client, thirty_products_in_three_categories, django_assert_num_queries
):
    # nav categories, the count for the paginator, the page of products with their categories
    with django_assert_num_queries(3):
        response = client.get(CATALOG)
    assert len(response.context["page"].object_list) == 24


def test_a_category_page_runs_four_queries(client, thirty_products_in_three_categories, django_assert_num_queries):
    # the category, nav categories, the count, the page of products
    with django_assert_num_queries(4):
        response = client.get(reverse("shop:category", kwargs={"slug": "garden"}))
    assert len(response.context["page"].object_list) == 10


def test_a_search_page_runs_three_queries(client, thirty_products_in_three_categories, django_assert_num_queries):
    with django_assert_num_queries(3):
        response = client.get(CATALOG, {"q": "product", "sort": "-price", "page": 2})
    assert len(response.context["page"].object_list) == 6


def test_a_product_page_runs_two_queries(client, thirty_products_in_three_categories, django_assert_num_queries):
    product = thirty_products_in_three_categories[0]
    # the product with its category, nav categories
    with django_assert_num_queries(2):
        response = client.get(product.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("page", ["list", "category", "search", "product"])
def test_a_warm_catalog_page_runs_no_query_at_all(
    client, thirty_products_in_three_categories, django_assert_num_queries, page
):
    url = {
        "list": CATALOG,
        "category": reverse("shop:category", kwargs={"slug": "garden"}),
        "search": f"{CATALOG}?q=product&sort=-price&page=2",
        "product": thirty_products_in_three_categories[0].get_absolute_url(),
    }[page]
    first = client.get(url)

    with django_assert_num_queries(0):
        again = client.get(url)
    assert again.content == first.content


def test_a_customer_with_a_cart_gets_the_same_cached_catalog_page_and_their_own_badge(
    client, thirty_products_in_three_categories, django_assert_num_queries
):
    anonymous_page = Client().get(CATALOG)
    product = thirty_products_in_three_categories[0]
    add_to_cart(client, product, 2)

    with django_assert_num_queries(0):
        page = client.get(CATALOG)
    state = client.get(reverse("shop:cart_state")).json()

    assert page.content == anonymous_page.content
    assert "Vary" not in page and not page.cookies
    assert state["count"] == 2
    assert state["csrfToken"]
    assert [message["text"] for message in state["messages"]] == [f"Added 2 × {product.name} to your cart."]
