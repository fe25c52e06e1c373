"""The runbook rehearsed: web replicas added during the spike, and what the waiting room made of them.

`make loadtest SCENARIO=influencer TARGET=compose CONFIGURATIONS=stampede,stampede-scale-out` runs the same
visitors on two compose stacks of two capped web replicas (WEB_CPUS); in the second, when WaitingRoomEngaged
fires in the stack's own Prometheus, `docker compose up -d --no-deps --no-recreate --scale web=5 web`, as
docs/runbook.md tells the operator it pages. The room's settings stay as they were: its pace must find the new
capacity on its own.

The report compares the minute before the scale-out was asked for with the minute after the new replicas
were ready, in both runs at the same moments of the scenario, so the difference is the scale-out's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from deploy.compose import ComposeStack
from deploy.stack import StackError
from loadtest.monitoring import RunningPrometheus
from loadtest.record import percentile

WINDOW_SECONDS = 60  # each side of the scale-out
BIN_SECONDS = 10  # how soon the room lets more in is read to this resolution
ASK_EVERY_SECONDS = 5  # how often the operator looks at the pager
FASTER = 1.5  # "more": the bar, admissions a minute against the minute before the asking
MINUTES_BEFORE, MINUTES_AFTER = 2, 10  # the minute-by-minute table around the asking
AT_ONCE_SECONDS = 10  # a visitor not in line this long after arriving was let in at once


@dataclass(frozen=True)
class Plan:
    """Scale the web pool to ``web`` replicas when ``alert`` fires, as the runbook's operator paged by it does."""

    web: int
    # docs/runbook.md, WaitingRoomEngaged: in auto mode, more needs capacity: scale the web tier. It fires
    # once the room has queued for a minute: the minute before the asking is still the room engaging.
    alert: str = "WaitingRoomEngaged"


class ScaleOut:
    """``with`` it around a run: when ``plan``'s alert fires (``prometheus`` asked every few seconds) it scales
    ``stack``'s web pool with the runbook's command, noting when it asked, when the new containers ran, and
    when each passed its health check."""

    def __init__(self, stack: ComposeStack, plan: Plan, prometheus: RunningPrometheus) -> None:
        self.stack, self.plan, self.prometheus = stack, plan, prometheus
        self.web_before = stack.web
        self.requested_at: float | None = None  # as soon as the alert was seen firing
        self.started_at: float | None = None  # the command returned: the new containers run
        self.ready_at: float | None = None  # every new replica healthy
        self.error = ""
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ScaleOut:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._ended.set()  # the run is over: a scale-out not yet asked for is not asked for
        self._thread.join()

    def _watch(self) -> None:
        while not self._ended.wait(ASK_EVERY_SECONDS):
            if self.prometheus.firing(self.plan.alert):
                self._scale()
                return

    def _scale(self) -> None:
        self.requested_at = time.time()
        try:
            self.stack.scale(web=self.plan.web, checkout=self.stack.checkout, wait=False)  # the runbook's command
        except StackError as error:
            self.error = str(error)
            return
        self.started_at = time.time()
        new = set(range(self.web_before + 1, self.plan.web + 1))
        while not new <= self.stack.healthy("web"):
            if self._ended.wait(1):
                self.error = f"the run ended before web replicas {sorted(new - self.stack.healthy('web'))} were healthy"
                return
        self.ready_at = time.time()

    def record(self) -> dict:
        """What happened, for result.json (epoch seconds; None: not reached)."""
        return {
            "alert": self.plan.alert,
            "web_before": self.web_before,
            "web_after": self.plan.web,
            "requested_at": self.requested_at,
            "started_at": self.started_at,
            "ready_at": self.ready_at,
            "error": self.error,
        }


def reference(results: dict[str, dict], started_at: dict[str, float]) -> dict | None:
    """The moments of the run that planned a scale-out, in seconds from its start (None: not reached, as when its
    alert never fired): the windows every configuration is read in."""
    for name, result in results.items():
        if scaled := result.get("scale_out"):
            moments = {"configuration": name, **{key: scaled[key] for key in ("alert", "web_before", "web_after")}}
            for moment in ("requested", "started", "ready"):
                at = scaled[f"{moment}_at"]
                moments[f"{moment}_after_s"] = None if at is None else round(at - started_at[name], 1)
            return {**moments, "error": scaled["error"]}
    return None


def around(moments: dict, events: list[dict], seconds: dict[int, dict], started: float) -> dict:
    """One configuration's figures in the minute before the scale-out and the minute after its replicas were ready."""
    requested = started + moments["requested_after_s"]
    ready = started + (moments["ready_after_s"] or moments["requested_after_s"])
    admitted = admissions(events)
    before = window(events, admitted, seconds, requested - WINDOW_SECONDS, requested)
    after = window(events, admitted, seconds, ready, ready + WINDOW_SECONDS)
    pace = before["admitted_per_minute"]
    return {
        "before": before,
        "after": after,
        "admitted_after_vs_before": round(after["admitted_per_minute"] / pace, 2) if pace else None,
        "admitted_faster_after_s": _first_faster(admitted, requested, pace),
        "queue_empty_after_s": _queue_empty(seconds, requested),
        "by_minute": by_minute(events, admitted, requested),
    }


def by_minute(events: list[dict], admitted: list[float], requested: float) -> list[dict]:
    """Admissions and orders minute by minute, from MINUTES_BEFORE before the asking to MINUTES_AFTER after:
    the room's pace climbs only once the new replicas serve and its last cut is a round trip old, so the
    first minute after they are ready can be its lowest."""
    orders = [e["at"] for e in events if e["type"] == "buyer" and e["outcome"] == "order"]
    minutes = []
    for minute in range(-MINUTES_BEFORE, MINUTES_AFTER):
        low = requested + 60 * minute
        minutes.append(
            {
                "minute": minute,
                "admitted": sum(1 for at in admitted if low <= at < low + 60),
                "orders": sum(1 for at in orders if low <= at < low + 60),
            }
        )
    return minutes


def admissions(events: list[dict]) -> list[float]:
    """When each visitor was admitted, in order: let in from the line, or at once on arrival (the room open, or
    within its pace): an arrival not in line AT_ONCE_SECONDS later."""
    queued_at: dict[str, float] = {}
    for event in events:
        if event["type"] == "queued":
            queued_at.setdefault(event["visitor"], event["at"])
    let_in = [e["at"] for e in events if e["type"] == "room"]
    arrivals = [e for e in events if e["type"] == "arrival"]
    at_once = [e["at"] for e in arrivals if e["at"] + AT_ONCE_SECONDS < queued_at.get(e["visitor"], float("inf"))]
    return sorted(let_in + at_once)


def window(events: list[dict], admitted: list[float], seconds: dict[int, dict], low: float, high: float) -> dict:
    """Admissions, the line, orders, checkout and errors between ``low`` and ``high`` (epoch seconds)."""

    def inside(kind: str) -> list[dict]:
        return [e for e in events if e["type"] == kind and low <= e["at"] < high]

    let_in, minutes = inside("room"), (high - low) / 60
    waits = [e["waited"] for e in let_in]
    orders = [e for e in inside("buyer") if e["outcome"] == "order"]
    latencies = [e["latency_ms"] for e in inside("checkout")]
    counts = [c for second, c in seconds.items() if low <= second < high]
    queued = [c["visitors_queued"] for c in counts if "visitors_queued" in c]
    return {
        "admitted_per_minute": round(sum(1 for at in admitted if low <= at < high) / minutes, 1),
        "let_in_per_minute": round(len(let_in) / minutes, 1),  # of those, from the line: the room's pace as served
        "queue_mean": round(sum(queued) / len(queued)) if queued else None,
        "queue_at_end": queued[-1] if queued else None,
        "wait_p50_s": _rounded(percentile(waits, 0.50)),
        "wait_p95_s": _rounded(percentile(waits, 0.95)),
        "orders_per_second": round(len(orders) / (high - low), 2),
        "checkout_p95_ms": _rounded(percentile(latencies, 0.95)),
        "http_5xx": sum(c.get("5xx", 0) for c in counts),
    }


def _first_faster(admitted: list[float], requested: float, pace: float) -> float | None:
    """Seconds from the scale-out's request to the end of the first 10 s in which visitors were admitted at
    FASTER x ``pace`` (a minute, the minute before the request's) or more (None: never within the run)."""
    later = [at for at in admitted if at >= requested]
    if not pace or not later:
        return None
    for index in range(int((later[-1] - requested) // BIN_SECONDS) + 1):
        low = requested + index * BIN_SECONDS
        if sum(1 for at in later if low <= at < low + BIN_SECONDS) * 60 / BIN_SECONDS >= FASTER * pace:
            return (index + 1) * BIN_SECONDS
    return None


def _queue_empty(seconds: dict[int, dict], requested: float) -> float | None:
    """Seconds from the scale-out's request until nobody waited in the room (None: somebody waited to the end)."""
    for second in sorted(seconds):
        if second >= requested and seconds[second].get("visitors_queued") == 0:
            return round(second - requested)
    return None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
