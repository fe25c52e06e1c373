"""What the shop calls: placing an order frees the visitor's place in the room at once."""

from __future__ import annotations

import pytest

from resilience.waitingroom import cookies
from tests.resilience.waitingroom.helpers import CATALOG, is_queued, room, status, visitor
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

pytestmark = pytest.mark.django_db


@room("on", total_active_users=1)
def test_an_admitted_visitor_stays_in_and_completing_an_order_frees_their_place(product, customer):
    buyer, waiting = visitor("198.51.100.1"), visitor("198.51.100.2")
    assert is_queued(buyer.get(CATALOG))
    assert not is_queued(buyer.get(CATALOG))  # let in on their next visit
    assert is_queued(waiting.get(CATALOG))
    assert not is_queued(buyer.get(product.get_absolute_url()))

    add_to_cart(buyer, product, 1)
    placed = submit_checkout(buyer, checkout_token(buyer), customer)

    assert placed.status_code == 302
    assert placed.cookies[cookies.PASS_COOKIE].value == ""  # the pass is dropped with the order
    assert not is_queued(waiting.get(CATALOG))  # the freed place goes to the next in line
    assert status().active_users == 1
