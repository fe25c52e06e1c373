"""`docker compose up --scale web=N`, run for real: what a user of docker-compose.yml gets.

One stack for the file, in order: the last test takes it down and checks that nothing is left.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from tests.compose.conftest import WEB_REPLICAS
from tests.concurrency import wait_until
from tests.conftest import CUSTOMER
from tests.stack.shopping import get

pytestmark = [pytest.mark.compose, pytest.mark.browser]

ORDER_HEADING = re.compile(r"^Order SP-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def prometheus(compose, path: str) -> dict:
    with urllib.request.urlopen(f"{compose.prometheus_url}{path}", timeout=5) as answer:  # noqa: S310 (loopback)
        return json.load(answer)["data"]


def searches_served_by(compose, term: str) -> dict[str, int]:
    """How many requests for ``term`` each web replica's gunicorn logged, by container."""
    logs = compose.compose("logs", "--no-color", "web").stdout
    served: dict[str, int] = {}
    for line in logs.splitlines():
        if term in line:
            container = line.split("|", 1)[0].strip()
            served[container] = served.get(container, 0) + 1
    return served


def test_a_person_buys_in_a_browser_and_the_compose_worker_confirms_the_order(compose, chromium):
    page = chromium.new_context().new_page()
    page.goto(f"http://localhost:{compose.port}/category/kitchen/")
    page.locator("a[href^='/products/']").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    page.get_by_role("link", name="Check out").click()
    for label, field in [
        ("Email", "email"),
        ("Full name", "full_name"),
        ("Address", "address"),
        ("Postal code", "postal_code"),
        ("City", "city"),
        ("Country", "country"),
    ]:
        page.get_by_label(label, exact=True).fill(CUSTOMER[field])
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name=ORDER_HEADING)).to_be_visible()
    # The page reloads by itself until the worker (a container of its own) has charged and confirmed it.
    expect(page.get_by_text("Your order is confirmed.")).to_be_visible(timeout=60_000)


def test_prometheus_scrapes_every_replica_and_has_loaded_the_alert_rules(compose):
    def replicas_up() -> bool:
        targets = prometheus(compose, "/api/v1/targets")["activeTargets"]
        web = [target for target in targets if target["labels"]["job"] == "stampede-web"]
        return len(web) == WEB_REPLICAS + 1 and all(target["health"] == "up" for target in web)

    assert wait_until(replicas_up, timeout=60, interval=1)
    rules = [rule["name"] for group in prometheus(compose, "/api/v1/rules")["groups"] for rule in group["rules"]]
    assert {"WebReplicaDown", "WorkerDown"} <= set(rules), rules


def test_scaled_up_replicas_serve_within_ten_seconds(compose):
    scaled = compose.compose("up", "--detach", "--no-recreate", "--wait", "--scale", "web=4", "--scale", "checkout=1")
    assert scaled.returncode == 0, scaled.stderr
    term = uuid.uuid4().hex

    def every_replica_served() -> bool:
        for index in range(20):  # new terms: no cache can answer them, a replica must
            assert get(f"{compose.url}/?q={term}-{index}").status_code == 200
        return len(searches_served_by(compose, term)) == 4

    assert wait_until(every_replica_served, timeout=10, interval=0.5), searches_served_by(compose, term)


def test_down_leaves_no_container_network_or_volume(compose):
    compose.down()
    label = f"label=com.docker.compose.project={compose.project}"
    for listing in (["container", "ls", "--all"], ["network", "ls"], ["volume", "ls"]):
        left = subprocess.run(["docker", *listing, "--quiet", "--filter", label], capture_output=True, text=True)
        assert left.returncode == 0 and left.stdout.split() == [], f"{listing[0]}s left: {left.stdout}{left.stderr}"
