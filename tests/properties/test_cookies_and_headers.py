"""Cookies and headers anyone can forge: the shop and the room read them, never trust them, never fail on them."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from resilience.middleware.shedding import queued_seconds
from resilience.testing import override_waitingroom
from resilience.waitingroom import cookies
from resilience.waitingroom.store import room_arrive
from tests.properties.expect import answered, example_rolled_back
from tests.properties.strategies import cookie_headers, hostile, wire_text

pytestmark = pytest.mark.django_db

SHOP_PAGES = ["/", reverse("shop:cart"), reverse("shop:checkout"), "/products/oak-cutting-board/"]
NUL_SESSION = 'sessionid="' + "\\000" * 32 + '"'  # http.cookies unquotes this into 32 NULs
addresses = st.ip_addresses(v=4).map(str)


@pytest.fixture
def full_room(product):
    """The room on, its one active place taken: every new visitor queues."""
    with override_waitingroom("on", total_active_users=1, new_users_per_minute=6000) as config:
        room_arrive(config=config, phase="on", ticket="earlier", client_address="192.0.2.1")
        yield


@given(header=cookie_headers(), page=st.sampled_from(SHOP_PAGES))
@example(header=NUL_SESSION, page=reverse("shop:cart"))
@example(header="sessionid=" + "x" * 4000, page="/")
@example(header='csrftoken="\\000"; messages="\\377"', page=reverse("shop:cart"))
def test_any_cookie_header_gets_the_page_and_never_someone_elses_cart(product, header, page):
    with example_rolled_back():
        response = Client().get(page, HTTP_COOKIE=header)

        answered(response, 200, 302)
        state = Client().get(reverse("shop:cart_state"), HTTP_COOKIE=header)
        answered(state, 200)
        assert state.json()["count"] == 0


@given(header=cookie_headers(), quantity=st.sampled_from(["1", "2", "x"]))
@example(header=NUL_SESSION, quantity="1")
def test_with_any_cookie_header_adding_to_the_cart_starts_a_cart_of_ones_own(product, header, quantity):
    with example_rolled_back():
        client = Client(HTTP_COOKIE=header)

        response = client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": quantity})

        answered(response, 302 if quantity != "x" else 400)


@given(
    header=cookie_headers(),
    page=st.sampled_from(["/", reverse("shop:cart"), reverse("shop:checkout")]),
    address=addresses,
)
@example(header=f"{cookies.PASS_COOKIE}=forged; {cookies.TICKET_COOKIE}=forged", page="/", address="198.51.100.1")
@example(header=NUL_SESSION, page=reverse("shop:cart"), address="198.51.100.2")
def test_in_a_full_room_no_forged_cookie_lets_anyone_in(full_room, header, page, address):
    response = Client(REMOTE_ADDR=address).get(page, HTTP_COOKIE=header, HTTP_ACCEPT="application/json")

    answered(response, 200, 429)  # queued, or too many tickets from one address
    if response.status_code == 200:
        assert response.json()["status"] == "queued"
        ticket = signing.loads(response.cookies[cookies.TICKET_COOKIE].value, salt=cookies.TICKET_SALT)
        assert isinstance(ticket["t"], str) and ticket["t"] not in header  # a new ticket, at the back


@given(
    payload=st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["t", "p", "v", "i", "n"]), inner),
        max_leaves=6,
    )
)
@example(payload={"t": "earlier", "p": 10**400})
@example(payload={"v": "earlier", "i": float("nan"), "n": 1})
def test_a_signed_cookie_of_any_shape_never_breaks_the_room(full_room, payload):
    """Cookies signed by an older release (or a leaked key) must still not crash the middleware."""
    header = "; ".join(
        f"{name}={signing.dumps(payload, salt=salt)}"
        for name, salt in ((cookies.TICKET_COOKIE, cookies.TICKET_SALT), (cookies.PASS_COOKIE, cookies.PASS_SALT))
    )

    answered(Client(REMOTE_ADDR="198.51.100.9").get("/", HTTP_COOKIE=header), 200, 429)


@given(stamp=st.one_of(wire_text, hostile), forwarded=wire_text, accept=wire_text)
@example(stamp=f"t={time.time() - 30:.3f}", forwarded="", accept="")  # waited 30 s: shed
@example(stamp="t=nan", forwarded="", accept="")
@example(stamp="t=1e400", forwarded="::1, , ,", accept="application/json")
@example(stamp="t=-inf", forwarded="\x00", accept="*/*")
def test_forged_proxy_headers_are_ignored_or_shed_with_a_retry_after(product, stamp, forwarded, accept):
    response = Client().get(
        "/checkout/", HTTP_X_REQUEST_START=stamp, HTTP_X_FORWARDED_FOR=forwarded, HTTP_ACCEPT=accept
    )

    answered(response, 302, 503)
    if response.status_code == 503:
        assert response["Retry-After"] and queued_seconds(response.wsgi_request) is not None
