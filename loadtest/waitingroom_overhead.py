"""The waiting room's own cost per request, in the `off` and `auto` modes, against the real Redis.

Times the middleware around a view that does nothing, so only the room is measured: reading its
configuration, checking a signed pass, and in `auto` mode the one Lua call a new visitor costs.

    DJANGO_SETTINGS_MODULE=config.settings.test python loadtest/waitingroom_overhead.py
"""

from __future__ import annotations

import ipaddress
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["STAMPEDE_TEST_RUN_ID"] = f"overhead-{os.getpid()}"

import django  # noqa: E402

django.setup()

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from loadtest.bench import publish, table  # noqa: E402
from resilience.waitingroom import cookies  # noqa: E402
from resilience.waitingroom.config import RoomConfig, config_cache  # noqa: E402
from resilience.waitingroom.middleware import WaitingRoomMiddleware  # noqa: E402
from resilience.waitingroom.store import room_reset  # noqa: E402

ROUNDS, PER_ROUND = 7, 2000
NEWCOMERS = ipaddress.IPv4Network("10.0.0.0/8")  # an address of its own for each request of a round


def room(mode: str) -> None:
    config_cache.prime(RoomConfig(mode, 10_000_000, 1_000_000, 900, ("/",), "", None, None))


def per_request(handler, make_request) -> float:
    """The median over rounds of the mean time per request, in microseconds."""
    rounds = []
    for _ in range(ROUNDS):
        requests = [make_request(n) for n in range(PER_ROUND)]
        started = time.perf_counter()
        for request in requests:
            handler(request)
        rounds.append((time.perf_counter() - started) / PER_ROUND * 1e6)
    return statistics.median(rounds)


def view(request: HttpRequest) -> HttpResponse:
    """The cheapest page the room gives a pass on in auto mode: one no shared cache may keep."""
    return HttpResponse("ok", headers={"Cache-Control": "private"})


def main() -> int:
    factory, middleware = RequestFactory(), WaitingRoomMiddleware(view)
    try:
        room("auto")
        admitted = middleware(factory.get("/", REMOTE_ADDR="192.0.2.1"))
        with_pass = {"HTTP_COOKIE": f"{cookies.PASS_COOKIE}={admitted.cookies[cookies.PASS_COOKIE].value}"}
        rows = {"no waiting room (the view alone)": per_request(view, lambda n: factory.get("/"))}
        room("off")
        rows["room off"] = per_request(middleware, lambda n: factory.get("/"))
        room("auto")
        holder = per_request(middleware, lambda n: factory.get("/", **with_pass))
        rows["room auto, admitted visitor (signed pass)"] = holder
        newcomer = per_request(middleware, lambda n: factory.get("/", REMOTE_ADDR=str(NEWCOMERS[n])))
        rows["room auto, new visitor let in (one Lua call)"] = newcomer
    finally:
        room_reset()
    title = f"Waiting room overhead per request (in-process, real Redis, median of {ROUNDS} rounds of {PER_ROUND:,} requests)"
    baseline = rows["no waiting room (the view alone)"]
    cells = [[name, f"{micros:.1f}", f"{micros - baseline:+.1f} µs"] for name, micros in rows.items()]
    publish("waitingroom-overhead.md", table(title, ["case", "µs per request", "overhead"], cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
