"""`docker compose up --scale web=N`, run for real: what a user of docker-compose.yml gets.

One stack for the file, in order: the last test takes it down and checks that nothing is left.
A crash is the container's main process killed from outside, as the OOM killer would: Docker
takes `docker kill` for an operator's stop and leaves the container stopped, whatever its
restart policy (checked on Engine 20.10), so that would test nothing of `restart: unless-stopped`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from playwright.sync_api import expect

from loadtest.audit import SUBJECT
from loadtest.customer import Customer
from loadtest.pages import ORDER_NUMBER
from tests.compose.conftest import WEB_REPLICAS
from tests.concurrency import wait_until
from tests.conftest import CUSTOMER
from tests.stack.shopping import get, place_order

pytestmark = pytest.mark.compose

ORDER_HEADING = re.compile(r"^Order SP-[0-9A-Z]{4}-[0-9A-Z]{4}$")
# What the worker's container knows of every order: its status, the fake gateway's charges, the mail sent.
SHOP_STATE = """
import json, pathlib
from django.conf import settings
from shop.models import Order
from shop.payments import FakeGateway
print(json.dumps({
    "orders": dict(Order.objects.values_list("number", "status")),
    "charges": [charge.description for charge in FakeGateway.ledger().all()],
    "mail": "\\n".join(path.read_text(errors="replace") for path in pathlib.Path(settings.EMAIL_FILE_PATH).glob("*.log")),
}))
"""


def prometheus(compose, path: str) -> dict:
    with urllib.request.urlopen(f"{compose.prometheus_url}{path}", timeout=5) as answer:  # noqa: S310 (loopback)
        return json.load(answer)["data"]


def crash(compose, service: str) -> None:
    """Kill the main process of the service's first container from outside (the rest of it goes with it)."""
    os.kill(compose.pid(service), signal.SIGKILL)


def started_again_and_healthy(compose, service: str) -> bool:
    return compose.inspect(service, "{{.RestartCount}} {{.State.Health.Status}}") == "1 healthy"


def shop_state(compose) -> dict:
    done = compose.compose("exec", "-T", "worker", "python", "manage.py", "shell", "-v", "0", "--command", SHOP_STATE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def searches_served_by(compose, term: str) -> dict[str, int]:
    """How many requests for ``term`` each web replica's gunicorn logged, by container."""
    logs = compose.compose("logs", "--no-color", "web").stdout
    served: dict[str, int] = {}
    for line in logs.splitlines():
        if term in line:
            container = line.split("|", 1)[0].strip()
            served[container] = served.get(container, 0) + 1
    return served


@pytest.mark.browser
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


def test_a_crashed_web_replica_costs_no_refused_get_and_docker_starts_it_again(compose):
    """nginx sends a GET the dead replica did not answer to another one; what it cannot send again is an
    answer the replica had begun when it died (the visitor has its first bytes; seen once in about
    10,000 GETs over 16 crashes, a response ended prematurely): at most the requests in flight on it."""
    statuses, stop = [], threading.Event()

    def browse(lane: int) -> None:
        for index in itertools.count():  # new terms: replicas answer, not the caches
            if stop.is_set():
                return
            try:
                statuses.append(requests.get(f"{compose.url}/?q=crash{lane}-{index}", timeout=(3.05, 30)).status_code)
            except requests.RequestException as error:  # no answer: which kind says where it was lost
                statuses.append(repr(error))

    with ThreadPoolExecutor(4) as pool:
        lanes = [pool.submit(browse, lane) for lane in range(4)]
        time.sleep(2)
        crash(compose, "web")
        time.sleep(5)
        stop.set()
    assert all(lane.exception() is None for lane in lanes)
    cut_short = [status for status in statuses if "ended prematurely" in str(status)]
    assert len(statuses) > 50 and {*statuses} - {*cut_short} == {200}, Counter(statuses)
    assert len(cut_short) <= 4, Counter(statuses)  # each of the 4 lanes has one request in flight at a time
    assert wait_until(lambda: started_again_and_healthy(compose, "web"), timeout=90, interval=1)


def test_orders_waiting_when_the_worker_crashes_are_each_processed_charged_and_emailed_once(compose):
    numbers = set()
    for index in range(6):
        if index == 2:
            crash(compose, "worker")  # the orders after this one wait for it in the broker
        customer = place_order(compose.url)
        numbers.add(ORDER_NUMBER.search(get(customer.order_url).text).group(0))
        # One client at a pace under nginx's cart and checkout limits per address: through a port
        # Docker publishes on loopback every request comes from one address (its proxy's).
        time.sleep(0.5)

    def all_confirmed() -> bool:
        orders = shop_state(compose)["orders"]
        return all(orders.get(number) == "confirmed" for number in numbers)

    assert wait_until(all_confirmed, timeout=120, interval=2), shop_state(compose)["orders"]
    state = shop_state(compose)
    charged = Counter(found.group(0) for charge in state["charges"] if (found := ORDER_NUMBER.search(charge)))
    emailed = Counter(SUBJECT.findall(state["mail"]))
    assert len(numbers) == 6
    assert all(charged[number] == 1 and emailed[number] == 1 for number in numbers), (charged, emailed)
    assert wait_until(
        lambda: started_again_and_healthy(compose, "worker"), timeout=90, interval=1
    )  # its check runs every 30 s


def test_behind_the_balancer_nginx_sees_each_visitors_own_address_and_no_address_a_client_claims(compose):
    forged = {"X-Forwarded-For": "203.0.113.9"}
    for address in ("127.0.0.77", "127.0.0.78"):
        assert Customer(compose.url, address=address).send("GET", "/", label="GET", headers=forged).status_code == 200

    logged = compose.compose("logs", "--no-color", "nginx").stdout.splitlines()  # "nginx-1  | <address> - - [...]"
    addresses = Counter(line.split("|", 1)[1].split()[0] for line in logged if '"GET / HTTP' in line)
    assert addresses["127.0.0.77"] >= 1 and addresses["127.0.0.78"] >= 1, addresses
    assert "203.0.113.9" not in addresses, addresses


def test_the_load_tests_audit_reads_the_orders_the_ledger_and_the_mail_inside_the_stack(compose, tmp_path):
    compose.audit("prepare", tmp_path, "--featured-stock", "100")
    place_order(compose.url)
    (tmp_path / "record").mkdir()  # no visitor of a load test saw it

    found = compose.audit("check", tmp_path, "--settle-seconds", "60", record=tmp_path / "record")

    assert json.loads((tmp_path / "catalog.json").read_text())["featured"]
    assert found["orders"] == 1 and found["orders_by_status"] == {"confirmed": 1}, found
    assert found["orders_not_shown"] == 1 and found["orders_lost"] == 0
    assert found["duplicate_charges"] == found["confirmed_without_charge"] == found["confirmed_without_email"] == 0
    assert compose.orders_with_status("confirmed") >= 1


def test_down_leaves_no_container_network_or_volume(compose):
    compose.down()
    label = f"label=com.docker.compose.project={compose.project}"
    for listing in (["container", "ls", "--all"], ["network", "ls"], ["volume", "ls"]):
        left = subprocess.run(["docker", *listing, "--quiet", "--filter", label], capture_output=True, text=True)
        assert left.returncode == 0 and left.stdout.split() == [], f"{listing[0]}s left: {left.stdout}{left.stderr}"
