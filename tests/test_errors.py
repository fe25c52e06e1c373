"""Error pages: a 404 or a 500 tells the customer what happened, never how the code failed."""

from __future__ import annotations

import pytest
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]

NEVER_SHOWN = ["Traceback", "RuntimeError", "secret-internal-detail", "hunter2"]


@pytest.fixture
def visitor(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


def test_a_crashing_view_answers_with_the_static_500_page(visitor):
    response = visitor.get("/explode/")

    assertContains(response, "Something went wrong on our side", status_code=500)
    assertTemplateUsed(response, "500.html")
    for leak in NEVER_SHOWN:
        assertNotContains(response, leak, status_code=500)


def test_the_500_page_needs_no_database(visitor, django_assert_num_queries):
    # Whatever broke the request may be the database: the error page must not need it.
    with django_assert_num_queries(0):
        response = visitor.get("/explode/")
    assert response.status_code == 500


def test_a_crash_on_a_post_also_answers_with_the_500_page(visitor):
    response = visitor.post("/explode/", {"quantity": "1"})

    assertContains(response, "Something went wrong on our side", status_code=500)


def test_an_unknown_url_answers_with_the_shops_404_page(visitor):
    response = visitor.get("/no-such-page/")

    assertContains(response, "Page not found", status_code=404)
    assertTemplateUsed(response, "shop/error.html")
    for leak in NEVER_SHOWN:
        assertNotContains(response, leak, status_code=404)
    assertNotContains(response, "URLconf", status_code=404)
