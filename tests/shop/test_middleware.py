"""The cart state's version cookie: renewed by every response that may change /cart/state/'s answer, and by no other."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shop.middleware import CART_STATE_VERSION_COOKIE
from tests.shop.helpers import add_to_cart

pytestmark = pytest.mark.django_db

CART_STATE = reverse("shop:cart_state")


def version_set_by(response) -> str | None:
    cookie = response.cookies.get(CART_STATE_VERSION_COOKIE)
    return cookie.value if cookie is not None else None


def test_a_first_visitors_state_sets_a_version_the_page_script_can_read(client):
    response = client.get(CART_STATE)

    assert response.json()["csrfToken"]
    cookie = response.cookies[CART_STATE_VERSION_COOKIE]
    assert cookie.value and not cookie["httponly"] and cookie["samesite"] == "Lax"


def test_asking_again_with_nothing_changed_keeps_the_version(client):
    client.get(CART_STATE)

    assert version_set_by(client.get(CART_STATE)) is None


def test_adding_to_the_cart_renews_the_version_and_the_state_shows_it(client, product):
    first = version_set_by(client.get(CART_STATE))

    added = version_set_by(add_to_cart(client, product, 2))
    read = client.get(CART_STATE)

    assert added not in (None, first)
    assert read.json()["count"] == 2
    # Reading the "added" message changes the session again: the kept answer must not repeat it.
    assert version_set_by(read) not in (None, added)


def test_a_cached_page_sets_no_version_and_stays_shareable(client, product):
    client.get(CART_STATE)

    page = client.get(product.get_absolute_url())

    assert page.status_code == 200 and not page.cookies


def test_logging_out_renews_the_version(client, django_user_model):
    django_user_model.objects.create_user("staff", password="s3cret-enough", is_staff=True)
    client.login(username="staff", password="s3cret-enough")
    before = version_set_by(client.get(CART_STATE))

    logged_out = client.post(reverse("admin:logout"))

    assert version_set_by(logged_out) not in (None, before)


def test_a_forged_version_only_makes_the_script_ask(product):
    forger = Client()
    forger.cookies[CART_STATE_VERSION_COOKIE] = "forged"

    state = forger.get(CART_STATE)

    assert state.json()["count"] == 0
    assert version_set_by(state) not in (None, "forged")


def test_a_session_from_before_the_version_cookie_gets_one(client, product):
    add_to_cart(client, product)
    del client.cookies[CART_STATE_VERSION_COOKIE]

    page = client.get(product.get_absolute_url())

    assert version_set_by(page)
