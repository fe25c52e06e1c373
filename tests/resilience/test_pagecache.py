"""The whole-page cache: one rendering for everyone, keyed by the path and the parameters the view reads."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from resilience.pagecache import cache_public_page
from resilience.versions import _bump_now
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
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


class View:
    """A view that counts its renderings; ``respond`` shapes each response."""

    def __init__(self, respond=lambda response: None) -> None:
        self.calls, self.respond, self.seen = 0, respond, []

    def __call__(self, request):
        self.calls += 1
        self.seen.append(request.GET.dict())
        response = HttpResponse(f"page {self.calls}")
        self.respond(response)
        return response


def served(view, *, method: str = "get", **params) -> HttpResponse:
    """One request for /page/ through the page cache, the view reading ``q`` only."""
    request = getattr(RequestFactory(), method)("/page/", params)
    return cache_public_page("test", query=("q",))(view)(request)


def test_a_page_is_rendered_once_then_served_to_everyone_until_its_namespace_is_bumped():
    view = View()

    first, second = served(view), served(view)
    _bump_now("test")
    third = served(view)

    assert (first.content, second.content, third.content) == (b"page 1", b"page 1", b"page 2")


def test_the_view_sees_only_the_declared_parameters_first_values_first():
    view = View()

    served(view, q="oak", utm_source="mail", junk="1")

    assert view.seen == [{"q": "oak"}]


@pytest.mark.parametrize(
    "respond",
    [
        lambda response: response.set_cookie("mine", "1"),
        lambda response: patch_vary_headers(response, ["Cookie"]),
        lambda response: setattr(response, "status_code", 500),
    ],
    ids=["sets-a-cookie", "varies-on-cookie", "server-error"],
)
def test_a_page_for_one_visitor_or_an_error_is_never_stored(respond):
    view = View(respond)

    served(view), served(view)

    assert view.calls == 2


def test_not_found_is_stored_like_any_page():
    view = View(lambda response: setattr(response, "status_code", 404))

    served(view), served(view)

    assert view.calls == 1


def test_a_post_is_never_cached():
    view = View()

    served(view, method="post"), served(view, method="post")

    assert view.calls == 2


def test_with_redis_down_every_request_is_rendered(private_redis):
    view = View()
    private_redis.stop()

    assert [served(view).content for _ in range(2)] == [b"page 1", b"page 2"]
