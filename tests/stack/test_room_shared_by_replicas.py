"""One waiting room for the whole fleet: three gunicorn replicas, one Redis, real HTTP.

Every visitor talks to one replica of its own (straight to its port), so the order,
the pace and the cap below can only hold if the replicas share the room.
(This module sorts before test_stack.py, whose last test kills a replica.)
"""

from __future__ import annotations

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

    count = 0

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        Visitor.count += 1
        self.forwarded_for = f"10.{Visitor.count // 65536 % 256}.{Visitor.count // 256 % 256}.{Visitor.count % 256}"

    def visit(self) -> dict:
        return self.room_answer(forwarded_for=self.forwarded_for)


def wait_until_every_replica_queues(stack, timeout: float = 15) -> None:
    """Configuration changes reach every process within seconds: wait until each replica shows it."""
    pending = list(stack.replica_urls)

    def all_queue() -> bool:
        while pending and Visitor(pending[0]).visit()["status"] == "queued":
            pending.pop(0)
        return not pending

    assert wait_until(all_queue, timeout, interval=0.2), f"replicas not queueing: {pending}"


def room_redis(stack) -> tuple[redis.Redis, str]:
    prefix = f"{stack.cache_prefix}:waitingroom"
    return redis.Redis.from_url(
        stack.redis_urls["WAITINGROOM_REDIS_URL"]
    ), prefix  # its own database, apart from the cache


def test_replicas_share_one_fifo_queue_and_one_active_cap_switched_by_the_command(stack):
    stack.manage("waitingroom", "reset")
    stack.manage("waitingroom", "on", "--total-active-users", "3", "--new-users-per-minute", "6000")
    wait_until_every_replica_queues(stack)
    stack.manage("waitingroom", "reset")  # forget the probes above
    line = [Visitor(stack.replica_urls[n % 3]) for n in range(12)]

    for visitor in line:  # arrivals, in this order, spread over the three replicas
        visitor.visit()
    settled = [visitor.visit() for visitor in line]
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
    stack.manage("waitingroom", "reset")
    stack.manage("waitingroom", "on", "--total-active-users", "100000", "--new-users-per-minute", str(per_minute))
    wait_until_every_replica_queues(stack)
    stack.manage("waitingroom", "reset")
    line = [Visitor(stack.replica_urls[n % 3]) for n in range(90)]
    for visitor in line:
        visitor.visit()

    started = time.time()
    with ThreadPoolExecutor(max_workers=6) as pool:
        while time.time() - started < 12:
            list(pool.map(lambda visitor: visitor.visit(), line))

    client, prefix = room_redis(stack)
    window = (started + 2, started + 12)  # after the first second's allowance
    admitted = client.zcount(f"{prefix}:admissions", *window)
    measured = admitted / (window[1] - window[0]) * 60
    assert abs(measured - per_minute) <= per_minute * 0.10, measured


def test_the_admin_switches_every_replica(stack):
    stack.manage("waitingroom", "on", "--total-active-users", "1", "--new-users-per-minute", "60")
    wait_until_every_replica_queues(stack)
    password = "a-long-test-password-42"
    stack.manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        extra_env={"DJANGO_SUPERUSER_PASSWORD": password},
    )
    admin = Customer(stack.url)
    admin_post(admin, "/admin/login/", {"username": "boss", "password": password, "next": "/admin/"})
    admin_post(
        admin,
        "/admin/resilience/waitingroomconfig/1/change/",
        {
            "mode": "off",
            "total_active_users": "1",
            "new_users_per_minute": "60",
            "session_duration": "15",
            "min_users_per_minute": "30",
            "target_latency_ms": "500",
            "target_queue_ms": "250",
            "protected_paths": "/",
            "message": "",
            "event_start_0": "",
            "event_start_1": "",
            "event_end_0": "",
            "event_end_1": "",
        },
    )

    open_replicas: set[str] = set()

    def all_open() -> bool:
        open_replicas.update(url for url in stack.replica_urls if Visitor(url).visit()["status"] == "admitted")
        return open_replicas == set(stack.replica_urls)

    assert wait_until(all_open, 15, interval=0.3), open_replicas


def admin_post(admin: Customer, path: str, fields: dict[str, str]) -> None:
    """Fill in and send the admin's form at ``path`` (its CSRF token is in the page: the admin is never cached)."""
    page = admin.send("GET", path, label="admin").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data, referer = {**fields, "csrfmiddlewaretoken": token}, {"Referer": admin.base_url + path}
    sent = admin.send("POST", path, label="admin", data=data, headers=referer)
    assert sent.status_code == 200, sent.status_code
