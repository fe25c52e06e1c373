"""One waiting room for the whole fleet: three gunicorn replicas, one Redis, real HTTP.

Every visitor asks a replica of its own, straight at its port: the order, the pace and the cap below
hold only if the replicas share the room. (Sorted before test_stack.py, whose last test kills a replica.)
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from loadtest.customer import Customer
from tests.concurrency import wait_until

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module", autouse=True)
def room_left_off(stack):
    """Leave the shared stack as found: the room off and empty, in every worker of every replica."""
    yield
    stack.manage("waitingroom", "off")
    stack.waitingroom("reset")


class Visitor(Customer):
    """A customer with an address of their own (as nginx would forward it), always asking the same replica."""

    addresses = (str(ipaddress.IPv4Address("10.0.0.0") + number) for number in itertools.count(1))

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.forwarded_for = next(Visitor.addresses)

    def visit(self) -> dict:
        return self.room_answer(forwarded_for=self.forwarded_for)


def every_replica_answers(stack, status: str) -> None:
    """Wait until a newcomer at each replica is ``status``: a change reaches every process within seconds."""
    pending = list(stack.replica_urls)

    def all_answer() -> bool:
        while pending and Visitor(pending[0]).visit()["status"] == status:
            pending.pop(0)
        return not pending

    assert wait_until(all_answer, 15, interval=0.2), f"replicas not {status}: {pending}"


def a_line(stack, visitors: int, *settings: str) -> list[Visitor]:
    """An empty room on with ``settings``, then ``visitors`` arriving in order, spread over the three replicas."""
    stack.manage("waitingroom", "reset")
    stack.manage("waitingroom", "on", *settings)
    every_replica_answers(stack, "queued")
    stack.manage("waitingroom", "reset")  # forget the probes
    line = [Visitor(stack.replica_urls[n % 3]) for n in range(visitors)]
    for visitor in line:
        visitor.visit()
    return line


def test_replicas_share_one_fifo_queue_and_one_active_cap_switched_by_the_command(stack):
    line = a_line(stack, 12, "--total-active-users", "3", "--new-users-per-minute", "6000")
    for _ in range(2):  # the line settles within two more asks each
        settled = [visitor.visit() for visitor in line]

    assert [answer["status"] for answer in settled] == ["admitted"] * 3 + ["queued"] * 9
    assert [answer["position"] for answer in settled[3:]] == list(range(1, 10))

    stack.manage("waitingroom", "on", "--total-active-users", "6")  # every replica follows
    wait_until(lambda: line[3].visit()["status"] == "admitted", 15, interval=0.3)
    answers = [visitor.visit() for visitor in line[3:]]
    assert [answer["status"] for answer in answers] == ["admitted"] * 3 + ["queued"] * 6
    assert [answer["position"] for answer in answers[3:]] == list(range(1, 7))


def test_admissions_per_minute_stay_within_ten_percent_of_the_setting(stack):
    per_minute = 300
    line = a_line(stack, 90, "--total-active-users", "100000", "--new-users-per-minute", str(per_minute))

    started = time.time()
    with ThreadPoolExecutor(max_workers=6) as pool:
        while time.time() - started < 12:
            list(pool.map(Visitor.visit, line))

    window = (started + 2, started + 12)  # after the first second's allowance
    room = redis.Redis.from_url(stack.redis_urls["WAITINGROOM_REDIS_URL"])  # its own database, apart from the cache
    admitted = room.zcount(f"{stack.cache_prefix}:waitingroom:admissions", *window)
    measured = admitted / (window[1] - window[0]) * 60
    assert abs(measured - per_minute) <= per_minute * 0.10, measured


def test_the_admin_switches_every_replica(stack):
    stack.manage("waitingroom", "on", "--total-active-users", "1", "--new-users-per-minute", "60")
    every_replica_answers(stack, "queued")
    password = "a-long-test-password-42"
    boss = {"DJANGO_SUPERUSER_USERNAME": "boss", "DJANGO_SUPERUSER_EMAIL": "boss@example.com"}
    stack.manage("createsuperuser", "--noinput", extra_env={**boss, "DJANGO_SUPERUSER_PASSWORD": password})
    admin = Customer(stack.url)
    admin_post(admin, "/admin/login/", {"username": "boss", "password": password, "next": "/admin/"})
    limits = {"total_active_users": "1", "new_users_per_minute": "60", "session_duration": "15"}
    pace = {"min_users_per_minute": "30", "target_latency_ms": "500", "target_queue_ms": "250"}
    change = {"mode": "off", **limits, **pace, "protected_paths": "/"}  # the message and the event left blank
    admin_post(admin, "/admin/resilience/waitingroomconfig/1/change/", change)

    every_replica_answers(stack, "admitted")


def admin_post(admin: Customer, path: str, fields: dict[str, str]) -> None:
    """Fill in and send the admin's form at ``path`` (its CSRF token is in the page: the admin is never cached)."""
    page = admin.send("GET", path, label="admin").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data, referer = {**fields, "csrfmiddlewaretoken": token}, {"Referer": admin.base_url + path}
    sent = admin.send("POST", path, label="admin", data=data, headers=referer)
    assert sent.status_code == 200, sent.status_code
