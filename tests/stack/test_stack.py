"""End to end through nginx: requests spread over the replicas, the microcache, a checkout confirmed by the
stack's worker, emailed and charged once, and a dead replica that costs no GET (last: tests run in file order).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from loadtest.pages import ORDER_NUMBER
from resilience.waitingroom.cookies import TICKET_COOKIE
from tests.concurrency import wait_until
from tests.stack.shopping import get, place_order

pytestmark = pytest.mark.stack


def requests_served(replica_url: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(get(f"{replica_url}/metrics").text)
        for sample in family.samples
        if sample.name == "django_http_requests_total_by_method_total"
    )


def cache_status(url: str, **options) -> str:
    """How nginx's microcache answered a GET of ``url``: HIT, MISS, BYPASS..."""
    return get(url, **options).headers["X-Cache-Status"]


def test_requests_spread_over_every_replica(stack):
    before = [requests_served(url) for url in stack.replica_urls]

    for i in range(60):
        assert get(f"{stack.url}/?q=spread{i}").status_code == 200  # distinct URLs: the microcache cannot answer

    served = [requests_served(url) - was for url, was in zip(stack.replica_urls, before, strict=True)]
    assert all(count >= 5 for count in served), served


def test_nginx_microcaches_anonymous_catalog_pages_and_hides_metrics(stack):
    statuses = [cache_status(f"{stack.url}/category/kitchen/") for _ in range(3)]
    assert statuses[-1] == "HIT", statuses
    assert get(f"{stack.url}/metrics").status_code == 404


def test_a_visitor_in_line_always_reaches_the_room_never_a_cached_copy(stack):
    page = f"{stack.url}/category/lighting/"
    cache_status(page)
    anonymous = cache_status(page)
    reload_in_line = cache_status(page, headers={"Cookie": f"{TICKET_COOKIE}=any-ticket; csrftoken=x"})

    assert anonymous == "HIT"
    assert reload_in_line == "BYPASS"  # the room decides: let in, or keep their place


def test_readiness_answers_probes_at_each_replica_and_nobody_through_nginx(stack):
    assert get(f"{stack.url}/readyz").status_code == 404
    assert [get(f"{url}/readyz").status_code for url in stack.replica_urls] == [200] * len(stack.replica_urls)


def test_nginx_serves_tagged_and_junk_links_from_the_plain_pages_entry(stack):
    page = f"{stack.url}/category/garden/"
    cache_status(page)
    # MISS means a key nginx never stored; once it has the plain page, a link keyed the same way
    # finds that entry (HIT, or EXPIRED and refreshed when its second is up).
    influencer = f"{page}?utm_source=instagram&utm_campaign=spring&fbclid=IwAR"
    tagged = [cache_status(f"{influencer}{n}{time.time_ns()}") for n in range(3)]
    junk = cache_status(f"{page}?junk={time.time_ns()}")
    searched = cache_status(f"{page}?q=oak{time.time_ns()}")  # a parameter the page reads: its own entry

    assert "MISS" not in [*tagged, junk], (tagged, junk)
    assert searched == "MISS"


def test_a_checkout_through_nginx_is_confirmed_by_the_worker(stack):
    customer = place_order(stack.url)

    assert "/orders/" in customer.order_url
    assert wait_until(lambda: "Your order is confirmed" in get(customer.order_url, customer).text, timeout=30)
    # The stack keeps what the customer was sent and charged, where an audit can read it back.
    number = ORDER_NUMBER.search(get(customer.order_url, customer).text).group(0)
    mail = "".join(path.read_text() for path in (stack.run_dir / "mail").glob("*.log"))
    assert f"Subject: Your Stampede order {number} is confirmed" in mail
    with sqlite3.connect(stack.run_dir / "payments.sqlite3") as ledger:
        assert ledger.execute("SELECT approved FROM charges WHERE idempotency_key = ?", [number]).fetchall() == [(1,)]


def test_a_replica_killed_under_load_costs_no_get_request(stack):
    statuses: list[int] = []
    stop = threading.Event()

    def browse(worker: int) -> None:
        for i in range(400):
            if stop.is_set():
                return
            statuses.append(get(f"{stack.url}/?q=load{worker}-{i}").status_code)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for worker in range(4):
            pool.submit(browse, worker)
        time.sleep(1.0)
        os.killpg(stack.pid("web:web-2"), signal.SIGKILL)  # the master and its workers, mid-request
        time.sleep(2.0)
        stop.set()

    assert len(statuses) > 40, "the load should have kept running across the kill"
    assert [status for status in statuses if status != 200] == []
    # The dead replica was really tried, and nginx passed those requests on to another one.
    dead_replica = stack.replica_urls[1].removeprefix("http://")
    assert dead_replica in (stack.run_dir / "logs" / "nginx-error.log").read_text()
