"""The ramp and the overload: the shapes that look for the shop's limit, and what they found.

The ramp's rule, ``within_bound()``, serves both the live run (the locustfile ends the ramp after the first
step that failed) and the report (a configuration's capacity is the highest step before it), so the report
never judges a step the run judged otherwise. A capacity is in visitors a second (the step's rate) and in
orders a second (placed in the step's settled second half); the overload's hold is measured against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import takewhile
from pathlib import Path

from loadtest.arrivals import USUAL_VISITORS_PER_SECOND, ArrivalShape, Phase
from loadtest.goodput import rounded
from loadtest.record import percentile

# A step fails when placing an order takes over a second (p95), or when more than 1% of its
# responses were errors (5xx, or no answer at all): a customer would notice either.
CHECKOUT_P95_BOUND_MS = 1000.0
ERROR_SHARE_BOUND = 0.01
RAMP_STEPS = (4, 8, 12, 16, 20, 24, 32, 40, 48, 56, 64)  # visitors a second, every kind by weight
# Long enough for a step's buyers to reach checkout (10-20 s after arriving) and the second half
# to show the step's steady state (full, quick).
RAMP_STEP_SECONDS, RAMP_STEP_QUICK_SECONDS = 60, 40
DEFAULT_OVERLOAD_RATE = 60.0  # visitors a second, when no ramp has measured the capacity
OVERLOAD_HOLD_SECONDS, OVERLOAD_HOLD_QUICK_SECONDS = 180, 90
# Locust runs in one process: past this share of a core its greenlets wait for it, and what it
# measures includes its own lag (nginx's access log then times the same requests far shorter).
LOADGEN_SATURATED_SHARE = 0.85


def step_name(rate: float) -> str:
    return f"{rate:g} visitors/s"


def step_figures(checkouts: list[tuple[float, float]], seconds: dict[int, dict], start: float, end: float) -> dict:
    """A step's checkouts and their p95, responses and errors; ``checkouts`` holds (when answered, latency in ms)."""
    latencies = [ms for at, ms in checkouts if start <= at < end]
    counts = [seconds.get(second, {}) for second in range(int(start), int(end))]
    return {
        "checkouts": len(latencies),
        "checkout_p95_ms": percentile(latencies, 0.95),
        "responses": sum(c.get("requests", 0) for c in counts),
        "errors": sum(c.get("5xx", 0) + c.get("no_response", 0) for c in counts),
    }


def within_bound(figures: dict) -> bool:
    """True if a step's checkout p95 stayed within the bound and its errors under 1% of its responses."""
    p95 = figures["checkout_p95_ms"]
    slow = p95 is not None and p95 > CHECKOUT_P95_BOUND_MS
    return not slow and figures["errors"] <= ERROR_SHARE_BOUND * figures["responses"]


class Ramp(ArrivalShape):
    """The usual mix of visitors (no campaign), more each step, each held; it ends after the first step out of bound."""

    phases = tuple(
        Phase(step_name(rate), RAMP_STEP_SECONDS, organic=rate, quick=RAMP_STEP_QUICK_SECONDS) for rate in RAMP_STEPS
    )
    baseline_phase = step_name(RAMP_STEPS[0])
    peak_phases = tuple(step_name(rate) for rate in RAMP_STEPS[1:])

    def __init__(self) -> None:
        self.judged: list[dict] = []
        self.failed_step: str | None = None

    def timeline(self) -> list[dict]:
        spans = zip(super().timeline(), self.phases, strict=True)
        return [{**span, "visitors_per_second": phase.organic} for span, phase in spans]

    def after_step(self, t: float, figures_between: Callable[[float, float], dict]) -> dict | None:
        """At ``t``, judge the step that has just ended (once): its figures, or None if none ended since."""
        ended = [span for span in self.timeline() if span["end"] <= t]
        if len(ended) == len(self.judged):
            return None
        span = ended[-1]
        figures = {"step": span["name"], **figures_between(span["start"], span["end"])}
        self.judged = ended
        if self.failed_step is None and not within_bound(figures):
            self.failed_step = span["name"]
        return figures

    def target(self, t: float) -> tuple[int, float, tuple[str, ...]] | None:
        return None if self.failed_step else super().target(t)


def overload_phases(rate: float) -> tuple[Phase, ...]:
    """The usual traffic for a minute, a rise over 20 s to ``rate`` visitors a second, the hold, a minute's tail."""
    campaign = max(0.0, rate - USUAL_VISITORS_PER_SECOND)
    return (
        Phase("baseline", 60),
        Phase("rise", 20, 0, campaign),
        Phase("hold", OVERLOAD_HOLD_SECONDS, campaign, quick=OVERLOAD_HOLD_QUICK_SECONDS),
        Phase("tail", 60),
    )


class Overload(ArrivalShape):
    """A spike held above what the shop can serve; like the influencer's, most of it through the campaign link."""

    phases = overload_phases(DEFAULT_OVERLOAD_RATE)
    phases_at = staticmethod(overload_phases)  # shape_for(..., rate=N)
    hold_phase = "hold"
    peak_phases = ("rise", "hold")
    last_wave_phase = "hold"


def ramp_capacity(summary: Path) -> dict[str, dict]:
    """Each configuration's capacity as the last ramp measured it (``summary``: its summary.json); {} if none."""
    if not summary.exists():
        return {}
    configurations = json.loads(summary.read_text()).get("configurations", {})
    return {name: figures["capacity"] for name, figures in configurations.items() if figures.get("capacity")}


def default_overload_rate(capacities: dict[str, dict]) -> float:
    """Twice Stampede's capacity in visitors a second, or a fixed rate when no ramp has measured it."""
    visitors = capacities.get("stampede", {}).get("visitors_per_second")
    return 2 * visitors if visitors else DEFAULT_OVERLOAD_RATE


def room_maximum(capacities: dict[str, dict]) -> tuple[str, ...]:
    """`manage.py waitingroom` options: the room's maximum, a minute, as the runbook sets it from Stampede's capacity.

    It is the middle of the bracket the ramp put the capacity in: its last step within bound, its first past it.
    """
    capacity = capacities.get("stampede", {})
    visitors = capacity.get("visitors_per_second")
    if not visitors:
        return ()
    past = [step["visitors_per_second"] for step in capacity.get("step_figures", []) if not step["within_bound"]]
    return ("--max-users-per-minute", str(round((visitors + past[0]) / 2 * 60 if past else visitors * 60)))


def ramp_steps(run: dict, events: list[dict], seconds: dict[int, dict]) -> list[dict]:
    """Each step the ramp ran to its end: its rate, checkout p95, errors, orders a second once settled, its verdict."""
    started, stopped = run["started_at"], run.get("stopped_at", float("inf"))
    checkouts, orders, arrivals = _timed(events)
    steps = []
    for span in run["phases"]:
        start, end = started + span["start"], started + span["end"]
        if end > stopped + 2:  # the ramp ended before this step did (Locust stops within a second or two)
            break
        figures = step_figures(checkouts, seconds, start, end)
        steps.append(
            {
                "step": span["name"],
                "visitors_per_second": span.get("visitors_per_second"),
                "arrived_per_second": _per_second(arrivals, start, end),
                "orders_per_second": _per_second(orders, (start + end) / 2, end),  # once settled
                **figures,
                "checkout_p95_ms": rounded(figures["checkout_p95_ms"]),
                "error_share": round(figures["errors"] / figures["responses"], 4) if figures["responses"] else None,
                **_loadgen(seconds, start, end, suffix=""),
                "within_bound": within_bound(figures),
            }
        )
    return steps


def capacity(steps: list[dict]) -> dict:
    """The highest step before the first one out of bound (None if the first already was), and every step."""
    within = list(takewhile(lambda step: step["within_bound"], steps))
    best = within[-1] if within else None
    return {
        **{key: best and best[key] for key in ("visitors_per_second", "orders_per_second", "step")},
        "step_figures": steps,
    }


def overload_figures(run: dict, events: list[dict], seconds: dict[int, dict], ramp: dict | None) -> dict:
    """The held spike: orders a second against the ramp's plateau, checkout for those let in, Locust's pace."""
    span = next(phase for phase in run["phases"] if phase["name"] == run["hold_phase"])
    start, end = run["started_at"] + span["start"], run["started_at"] + span["end"]
    checkouts, orders, arrivals = _timed(events)
    orders_per_second = _per_second(orders, start, end)
    plateau = (ramp or {}).get("orders_per_second")
    return {
        "rate": run.get("rate") or DEFAULT_OVERLOAD_RATE,  # none given: the shape's own
        "arrived_per_second_in_hold": _per_second(arrivals, start, end),
        "orders_per_second_in_hold": orders_per_second,
        "ramp_orders_per_second": plateau,
        "orders_vs_ramp_plateau": round(orders_per_second / plateau, 2) if plateau else None,
        "checkout_p95_in_hold_ms": rounded(percentile([ms for at, ms in checkouts if start <= at < end], 0.95)),
        **_loadgen(seconds, start, end, suffix="_in_hold"),
    }


def _timed(events: list[dict]) -> tuple[list[tuple[float, float]], list[float], list[float]]:
    """Each checkout (when answered, its latency in ms), when each order was placed, when each visitor arrived."""
    checkouts = [(e["at"], e["latency_ms"]) for e in events if e["type"] == "checkout"]
    orders = [e["at"] for e in events if e["type"] == "buyer" and e["outcome"] == "order"]
    return checkouts, orders, [e["at"] for e in events if e["type"] == "arrival"]


def _per_second(moments: list[float], start: float, end: float) -> float:
    return round(sum(start <= at < end for at in moments) / (end - start), 2)


def _loadgen(seconds: dict[int, dict], start: float, end: float, *, suffix: str) -> dict:
    """Locust's CPU between ``start`` and ``end`` in cores (1.0: its one process was never idle), and if saturated."""
    samples = [(s, c["loadgen_cpu_s"]) for s, c in sorted(seconds.items()) if start <= s < end and "loadgen_cpu_s" in c]
    share = None
    if len(samples) >= 2:
        (first, used_first), (last, used_last) = samples[0], samples[-1]
        share = round((used_last - used_first) / (last - first), 2)
    return {
        f"loadgen_cpu_share{suffix}": share,
        f"loadgen_saturated{suffix}": share is not None and share >= LOADGEN_SATURATED_SHARE,
    }
