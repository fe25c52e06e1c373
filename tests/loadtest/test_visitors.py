"""How a simulated customer follows the room: the harness's count of who waits must stay true.

The customer is given the answers a shop would give, in order (no stack, no Locust): what is
asserted is the customer's own bookkeeping, which the report's queue figures read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from deploy.stack import ROOT
from loadtest.customer import Customer, GaveUp
from loadtest.record import Recorder


def answer(status: int, queued: bool = False, body: bytes = b"<html>a page</html>") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if queued:
        line = {"status": "queued", "estimated_wait_seconds": 5, "wait_known": True, "position": 3}
        response._content = json.dumps({**line, "refresh_after_seconds": 0}).encode()
        response.headers["Content-Type"] = "application/json"
    else:
        response._content = body
        response.headers.update({"Content-Type": "text/html", "Retry-After": "0"})
    return response


QUEUED, BUSY, LIMITED, PAGE = answer(200, True), answer(503), answer(429), answer(200)
STILL_IN_LINE = answer(503, body=(ROOT / "deploy" / "nginx" / "errors" / "50x-in-line.html").read_bytes())


def follow(answers: list[requests.Response], tmp_path: Path) -> tuple[str, Customer, list[dict]]:
    """A customer of the JSON API following the room through ``answers``: the outcome, them, their record."""
    customer = Customer(address="127.1.0.1", accept="application/json", recorder=Recorder(tmp_path), phase="spike")
    remaining = iter(answers)
    customer.send = lambda *args, **options: next(remaining)
    try:
        outcome = customer.follow_room("/", label="catalog", accept="application/json")
    except GaveUp as gave_up:
        outcome = f"gave up: {gave_up.args[0]}"
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    return outcome, customer, [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([QUEUED, QUEUED, PAGE], id="let in after waiting"),
        pytest.param([QUEUED, BUSY, QUEUED, BUSY, PAGE], id="a busy answer now and then is reloaded once each time"),
        pytest.param(
            [QUEUED, STILL_IN_LINE, STILL_IN_LINE, STILL_IN_LINE, PAGE], id="nginx says they keep their place"
        ),
    ],
)
def test_a_customer_let_in_after_waiting_is_counted_out_of_the_line_with_their_wait(answers, tmp_path):
    outcome, customer, events = follow(answers, tmp_path)

    assert outcome == "<html>a page</html>" and customer.recorder.visitors_queued == 0
    assert [event["type"] for event in events] == ["queued", "room"]


def test_a_customer_refused_twice_in_a_row_leaves_the_line_and_is_counted_out_of_it(tmp_path):
    outcome, customer, events = follow([QUEUED, BUSY, LIMITED], tmp_path)

    joined, left = events
    assert joined["type"] == "queued" and joined["visitor"] == "127.1.0.1"
    assert outcome == "gave up: 429" and customer.recorder.visitors_queued == 0
    assert left["type"] == "left the line" and left["why"] == 429 and left["visitor"] == "127.1.0.1"
