"""The bulkhead, end to end through nginx: browsing fills a pool of its own, buying never waits behind it.

nginx sends each browsing replica at most as many requests as it has threads. With every one
of them busy, a page nginx has a copy of is served from it, any other browsing request gets the
busy page at once, and the cart, on the checkout replicas, answers as usual. The page script's
call (/cart/state/) is browsing for a first visit (buying when browsing is full) and buying for
a visitor with a cart. A visitor waiting in the room gets a busy page that keeps them in line.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.concurrency import wait_until
from tests.stack.shopping import fetch, shopper_with_a_cart

pytestmark = pytest.mark.stack


def test_with_every_browsing_thread_busy_browsing_is_answered_at_once_and_buying_goes_on(stack):
    kitchen = f"{stack.url}/category/kitchen/"
    fetch(kitchen)  # nginx keeps a copy
    shopper = shopper_with_a_cart(stack.url)
    slots, extra = stack.browsing_slots, 4

    with ThreadPoolExecutor(max_workers=slots + extra) as pool:
        slow = [pool.submit(fetch, f"{stack.url}/slow/?seconds=6&n={n}") for n in range(slots + extra)]
        # The pool is full once nginx turns a slow page away.
        assert wait_until(lambda: any(f.done() and f.result()[0] == 503 for f in slow), timeout=5)

        busy_status, busy_headers, busy_page = fetch(f"{stack.url}/?q=none{time.time_ns()}")
        in_line = urllib.request.build_opener()
        in_line.addheaders = [("Cookie", "wr_ticket=a-ticket-from-the-room")]
        in_line_status, in_line_headers, in_line_page = fetch(f"{stack.url}/?q=none{time.time_ns()}", in_line)
        cached_status, cached_headers, _ = fetch(kitchen)
        cart_status, _, cart_page = fetch(f"{stack.url}/cart/")
        first_visit_state, _, _ = fetch(f"{stack.url}/cart/state/")
        shopper_state, _, shopper_json = fetch(f"{stack.url}/cart/state/", shopper)

        assert (busy_status, busy_headers.get("Retry-After")) == (503, "5"), busy_headers
        assert "Back in a moment" in busy_page  # nginx's own page: the request never reached a replica
        # Someone waiting in the room is told they keep their place, by a page that reloads itself.
        assert (in_line_status, in_line_headers.get("Retry-After")) == (503, "15")  # later than a newcomer
        assert "You are still in line" in in_line_page and 'http-equiv="refresh"' in in_line_page
        # Fresh for as long as the page's max-age says, stale after: either way from nginx's copy.
        assert cached_status == 200 and cached_headers["X-Cache-Status"] in {"HIT", "STALE"}
        assert cart_status == 200 and "Your cart" in cart_page
        assert first_visit_state == 200  # no session: browsing first, and with browsing full, buying
        assert shopper_state == 200 and json.loads(shopper_json)["count"] == 1
        # At most as many slow pages as threads were served, the rest turned away with the busy
        # answer, none failed. (Not exactly as many: gunicorn's worker processes do not share out
        # connections evenly, and one that waits for its worker's thread is shed by the app: 503.)
        served = [future.result()[0] for future in slow]
        assert set(served) == {200, 503} and served.count(200) <= slots, served
