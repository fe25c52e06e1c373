"""How a simulated visitor follows the room: the harness's count of who waits must stay true.

The visitor is given the answers a shop would give, in order (no stack, no Locust runner),
in a process of its own (importing Locust patches everything for gevent): what is asserted is
the visitor's own bookkeeping, which the report's queue figures read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLLOW = """
from loadtest.journeys import Buyer  # first: Locust patches the standard library for gevent
from loadtest.record import Recorder
from loadtest.visitors import GaveUp
import json, tempfile
from pathlib import Path
import requests

def answer(status, queued=False, body=b"<html>a page</html>"):
    response = requests.Response()
    response.status_code = status
    if queued:
        body = {"status": "queued", "estimated_wait_seconds": 5, "wait_known": True, "position": 3}
        response._content = json.dumps({**body, "refresh_after_seconds": 0}).encode()
        response.headers["Content-Type"] = "application/json"
    else:
        response._content = body
        response.headers.update({"Content-Type": "text/html", "Retry-After": "0"})
    return response

QUEUED, BUSY, LIMITED, PAGE = answer(200, True), answer(503), answer(429), answer(200)
STILL_IN_LINE = answer(503, body=(Path("deploy/nginx/errors/50x-in-line.html")).read_bytes())
SCENES = {
    "let in after waiting": [QUEUED, QUEUED, PAGE],
    "busy now and then while waiting": [QUEUED, BUSY, QUEUED, BUSY, PAGE],
    "refused twice in a row while waiting": [QUEUED, BUSY, LIMITED],
    "told by nginx they keep their place": [QUEUED, STILL_IN_LINE, STILL_IN_LINE, STILL_IN_LINE, PAGE],
}
seen = {}
for scene, answers in SCENES.items():
    visitor = object.__new__(Buyer)  # a visitor's own logic, without a Locust environment
    visitor.recorder = Recorder(Path(tempfile.mkdtemp()))
    visitor.address, visitor.phase, visitor.accept = "127.1.0.1", "spike", "application/json"
    remaining = iter(answers)
    try:
        outcome = visitor.follow_room(lambda poll: next(remaining))
    except GaveUp as gave_up:
        outcome = f"gave up: {gave_up.args[0]}"
    lines = (visitor.recorder.folder / "events.jsonl").read_text().splitlines()
    seen[scene] = {"outcome": outcome, "queued": visitor.recorder.visitors_queued, "events": [json.loads(l) for l in lines]}
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def seen() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", FOLLOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_visitor_let_in_after_waiting_is_counted_out_of_the_line_with_their_wait(seen):
    scene = seen["let in after waiting"]

    assert scene["outcome"] == "<html>a page</html>" and scene["queued"] == 0
    assert [e["type"] for e in scene["events"]] == ["room"]


def test_in_line_a_busy_answer_is_reloaded_once_each_time_it_comes(seen):
    scene = seen["busy now and then while waiting"]

    assert scene["outcome"] == "<html>a page</html>" and scene["queued"] == 0
    assert [e["type"] for e in scene["events"]] == ["room"]


def test_a_visitor_refused_twice_in_a_row_leaves_the_line_and_is_counted_out_of_it(seen):
    scene = seen["refused twice in a row while waiting"]

    (left,) = scene["events"]
    assert scene["outcome"] == "gave up: 429" and scene["queued"] == 0
    assert left["type"] == "left the line" and left["why"] == 429 and left["visitor"] == "127.1.0.1"


def test_in_line_nginxs_busy_page_that_keeps_their_place_is_waited_on_as_it_asks(seen):
    scene = seen["told by nginx they keep their place"]

    assert scene["outcome"] == "<html>a page</html>" and scene["queued"] == 0
    assert [e["type"] for e in scene["events"]] == ["room"]
