"""Three times more uncacheable browsing than the browsing pool can serve, while customers buy.

The crowd is wrk (loadtest/overload.lua) at the browsing pool's CPU priority (nice), every request a
search of its own so no cache answers it; from one address, as browsing has no per-address limit.
It measures what the pool serves at full use (its capacity), then offers three times that.
Pass: at least 90% of the offered rate arrived (else the crowd, not the shop, fell short); the
excess answered 503 or 429 in under 100 ms at nginx; checkout's p99 within 2x its p99 before.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from deploy.stack import ROOT, Stack
from loadtest.chaos.harness import ScenarioResult, chaos_run
from loadtest.record import percentile

SCRIPT = ROOT / "loadtest" / "overload.lua"
CONNECTIONS = 160  # many, each pausing long: the offered rate hardly depends on how fast replies come
FAST_MS = 100
OVERLOAD = 3
SEARCH = re.compile(r'"GET /\?q=overload-\S+ HTTP/[\d.]+" (?P<status>\d{3}) .* t=(?P<at>[\d.]+) rt=(?P<seconds>[\d.]+)')


def crowd(stack: Stack, *, seconds: int, connections: int, pause_ms: int) -> dict[str, int]:
    """Run the crowd against ``stack``'s nginx, at its browsing pool's priority; the count of each status it was answered."""
    nice = ["nice", "-n", str(stack.web_nice)]
    wrk = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", str(SCRIPT), stack.url]
    env = {"PAUSE_MS": str(pause_ms), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*nice, *wrk], env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return json.loads(done.stdout.split("STATUSES ", 1)[1].splitlines()[0])


def searches_at_nginx(access_log: Path, start: float, end: float) -> list[tuple[int, float]]:
    """(status, milliseconds) of each of the crowd's searches nginx answered between ``start`` and ``end``."""
    found = (SEARCH.search(line) for line in access_log.open(errors="replace"))
    return [(int(m["status"]), float(m["seconds"]) * 1000) for m in found if m and start <= float(m["at"]) <= end]


def overload(*, quick: bool) -> ScenarioResult:
    calm, loaded = (15, 20) if quick else (30, 40)
    with chaos_run("overload", web=2) as s:
        # Capacity first: the crowd with no pause on as many connections as nginx lets the
        # browsing pool take at once (its threads): the pool at full use, nothing turned away.
        served = crowd(s.stack, seconds=10, connections=s.stack.browsing_slots, pause_ms=0)
        capacity = served.get("200", 0) / 10
        offered = OVERLOAD * capacity
        pause_ms = max(1, round(CONNECTIONS * 1000 / offered))  # each connection's share of the offered rate
        buying_until = time.monotonic() + calm + loaded
        buying = s.shoppers.shop_while(lambda: time.monotonic() < buying_until, buyers=3)
        time.sleep(calm)
        started = time.time()
        statuses = crowd(s.stack, seconds=loaded, connections=CONNECTIONS, pause_ms=pause_ms)
        ended = time.time()
        buying()
        audit = s.audit()
        searches = searches_at_nginx(s.stack.run_dir / "logs" / "nginx-access.log", started, ended)
    checkouts = [e for e in s.events("checkout") if e["status"] == 302]
    before = percentile([e["latency_ms"] for e in checkouts if e["at"] < started], 0.99)
    during = percentile([e["latency_ms"] for e in checkouts if started <= e["at"] <= ended], 0.99)
    refused = [ms for status, ms in searches if status in (429, 503)]
    other = sorted({status for status, _ in searches if status not in (200, 429, 503)})
    refused_p99 = percentile(refused, 0.99)
    arrived = len(searches) / loaded
    steady = before is not None and during is not None and during <= 2 * before
    passed = arrived >= 0.9 * offered and bool(refused) and refused_p99 < FAST_MS and not other and steady
    comparison = (
        f"checkout p99 {_ms(before)} before, {_ms(during)} overloaded ({during / before:.2f}x)"
        if before and during
        else "too few checkouts to compare"
    )
    return s.result(
        audit,
        passed,
        f"capacity {capacity:.0f} pages/s, {OVERLOAD}x offered: {arrived:.0f}/s arrived ({arrived / capacity:.1f}x), "
        f"{len(refused)} of {len(searches)} answered 503/429, p99 {_ms(refused_p99)} at nginx"
        f"{'; other statuses ' + str(other) if other else ''}; {comparison}",
        {
            "capacity_per_second": capacity,
            "capacity_statuses": served,
            "offered_per_second": offered,
            "pause_ms": pause_ms,
            "arrived_per_second": round(arrived, 1),
            "crowd_statuses": statuses,
            "searches": len(searches),
            "refused": len(refused),
            "refused_p99_ms": refused_p99,
            "other_statuses": other,
            "checkout_p99_before_ms": before,
            "checkout_p99_overloaded_ms": during,
            "checkouts": len(checkouts),
        },
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
