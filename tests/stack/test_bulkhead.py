"""The bulkhead, end to end through nginx: browsing fills a pool of its own, buying never waits behind it.

nginx sends each browsing replica at most as many requests as it has threads; past that, browsing
is answered at once (from nginx's copy, or with the busy page) while the cart answers as usual.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.concurrency import wait_until
from tests.stack.shopping import get, shopper_with_a_cart

pytestmark = pytest.mark.stack


def test_with_every_browsing_thread_busy_browsing_is_answered_at_once_and_buying_goes_on(stack):
    kitchen = f"{stack.url}/category/kitchen/"
    get(kitchen)  # nginx keeps a copy
    shopper = shopper_with_a_cart(stack.url)
    slots, extra = stack.browsing_slots, 4

    with ThreadPoolExecutor(max_workers=slots + extra) as pool:
        slow = [pool.submit(get, f"{stack.url}/slow/?seconds=6&n={n}") for n in range(slots + extra)]
        # The pool is full once nginx turns a slow page away.
        assert wait_until(lambda: any(f.done() and f.result().status_code == 503 for f in slow), timeout=5)

        busy = get(f"{stack.url}/?q=none{time.time_ns()}")
        in_line = get(f"{stack.url}/?q=none{time.time_ns()}", headers={"Cookie": "wr_ticket=a-ticket-from-the-room"})
        cached = get(kitchen)
        cart = get(f"{stack.url}/cart/")
        first_visit_state = get(f"{stack.url}/cart/state/")
        shopper_state = get(f"{stack.url}/cart/state/", shopper)

        assert (busy.status_code, busy.headers.get("Retry-After")) == (503, "5"), busy.headers
        assert "Back in a moment" in busy.text  # nginx's own page: the request never reached a replica
        # Someone waiting in the room is told they keep their place, by a page that reloads itself.
        assert (in_line.status_code, in_line.headers.get("Retry-After")) == (503, "15")  # later than a newcomer
        assert "You are still in line" in in_line.text and 'http-equiv="refresh"' in in_line.text
        # Fresh for as long as the page's max-age says, stale after: either way from nginx's copy.
        assert cached.status_code == 200 and cached.headers["X-Cache-Status"] in {"HIT", "STALE"}
        assert cart.status_code == 200 and "Your cart" in cart.text
        assert first_visit_state.status_code == 200  # no session: browsing first, and with browsing full, buying
        assert shopper_state.status_code == 200 and shopper_state.json()["count"] == 1
        # At most one slow page a thread served, the rest turned away (some waiting for a thread are shed), none failed.
        served = [future.result().status_code for future in slow]
        assert set(served) == {200, 503} and served.count(200) <= slots, served
