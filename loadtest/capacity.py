"""The ramp's figure, each configuration's capacity, and what the overload is measured against.

A configuration's capacity is the highest ramp step before the first step out of bound
(loadtest/stress.py's rule): in visitors a second (the step's arrival rate) and in orders a
second (those placed in the step's second half, once the step had settled).
"""

from __future__ import annotations

import json
from pathlib import Path

from loadtest.record import percentile
from loadtest.stress import DEFAULT_OVERLOAD_RATE, step_figures, within_bound

# Locust runs in one process: past this share of a core its greenlets wait for it, and what it
# measures includes its own lag (at 80 visitors/s here it used a whole core and timed checkout
# at 1,188 ms while nginx logged 402 ms for the same requests).
LOADGEN_SATURATED_SHARE = 0.85


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
    """`manage.py waitingroom` options for the room's maximum as the runbook sets it, from Stampede's capacity.

    The ramp brackets the capacity between its last step within bound and its first past it:
    the maximum is the middle of that bracket, a minute (the README's overload table says why).
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
    checkouts = [(e["at"], e["latency_ms"]) for e in events if e["type"] == "checkout"]
    orders = [e["at"] for e in events if e["type"] == "buyer" and e["outcome"] == "order"]
    arrivals = [e["at"] for e in events if e["type"] == "arrival"]
    steps = []
    for span in run["phases"]:
        start, end = started + span["start"], started + span["end"]
        if end > stopped + 2:  # the ramp ended before this step did (Locust stops within a second or two)
            break
        figures = step_figures(checkouts, seconds, start, end)
        settled = (start + end) / 2
        steps.append(
            {
                "step": span["name"],
                "visitors_per_second": span.get("visitors_per_second"),
                "arrived_per_second": _per_second(arrivals, start, end),
                "orders_per_second": _per_second(orders, settled, end),
                **figures,
                "checkout_p95_ms": _round(figures["checkout_p95_ms"]),
                "error_share": round(figures["errors"] / figures["responses"], 4) if figures["responses"] else None,
                **_loadgen(seconds, start, end, suffix=""),
                "within_bound": within_bound(figures),
            }
        )
    return steps


def capacity(steps: list[dict]) -> dict:
    """The highest step before the first one out of bound (None if the first already was), and every step."""
    best = None
    for step in steps:
        if not step["within_bound"]:
            break
        best = step
    return {
        "visitors_per_second": best and best["visitors_per_second"],
        "orders_per_second": best and best["orders_per_second"],
        "step": best and best["step"],
        "step_figures": steps,
    }


def overload_figures(run: dict, events: list[dict], seconds: dict[int, dict], ramp: dict | None) -> dict:
    """The held spike: orders a second against the ramp's plateau, checkout for those let in, Locust's pace."""
    span = next(phase for phase in run["phases"] if phase["name"] == run["hold_phase"])
    start, end = run["started_at"] + span["start"], run["started_at"] + span["end"]
    orders = _per_second([e["at"] for e in events if e["type"] == "buyer" and e["outcome"] == "order"], start, end)
    plateau = (ramp or {}).get("orders_per_second")
    latencies = [e["latency_ms"] for e in events if e["type"] == "checkout" and start <= e["at"] < end]
    return {
        "rate": run.get("rate") or DEFAULT_OVERLOAD_RATE,  # none given: the shape's own
        "arrived_per_second_in_hold": _per_second([e["at"] for e in events if e["type"] == "arrival"], start, end),
        "orders_per_second_in_hold": orders,
        "ramp_orders_per_second": plateau,
        "orders_vs_ramp_plateau": round(orders / plateau, 2) if plateau else None,
        "checkout_p95_in_hold_ms": _round(percentile(latencies, 0.95)),
        **_loadgen(seconds, start, end, suffix="_in_hold"),
    }


def _per_second(moments: list[float], start: float, end: float) -> float:
    return round(sum(start <= at < end for at in moments) / (end - start), 2)


def _loadgen(seconds: dict[int, dict], start: float, end: float, *, suffix: str) -> dict:
    """Locust's CPU between ``start`` and ``end``, and whether it was too busy to be believed."""
    share = _cpu_share(seconds, start, end)
    return {
        f"loadgen_cpu_share{suffix}": share,
        f"loadgen_saturated{suffix}": share is not None and share >= LOADGEN_SATURATED_SHARE,
    }


def _cpu_share(seconds: dict[int, dict], start: float, end: float) -> float | None:
    """Locust's CPU between ``start`` and ``end``, in cores (1.0: its one process was never idle)."""
    samples = [(s, c["loadgen_cpu_s"]) for s, c in sorted(seconds.items()) if start <= s < end and "loadgen_cpu_s" in c]
    if len(samples) < 2:
        return None
    (first, used_first), (last, used_last) = samples[0], samples[-1]
    return round((used_last - used_first) / (last - first), 2)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
