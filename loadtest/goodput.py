"""The spike's first judgement: orders placed against buying demand (goodput), then how long buyers waited.

Buying demand is every buyer who arrived, served or not: one still in line when the campaign ended, or one
who gave up, is a lost sale. A buyer told "sold out" got a correct answer, so sold-out answers leave the
denominator: goodput = orders / (demand − sold out). A phase's figures are its arrivals', whenever served.
"""

from __future__ import annotations

from collections import Counter

from loadtest.record import percentile

WHOLE_RUN = "whole run"
AFTER_LAST_WAVE_SECONDS = 60  # the room should have let in (or lost) the last wave's visitors by then


def goodput_by_phase(events: list[dict], phases: list[str]) -> dict[str, dict]:
    """The figures of the whole run and of each phase (by arrival), from a run's events."""
    arrived = {e["visitor"]: e for e in events if e["type"] == "arrival"}
    outcomes = {e["visitor"]: e["outcome"] for e in events if e["type"] == "buyer"}  # the last word on each
    product_pages = [e for e in events if e["type"] == "product page"]
    checkouts = [e for e in events if e["type"] == "checkout"]

    def figures(phase: str | None) -> dict:
        buyers = [visitor for visitor, e in arrived.items() if e["kind"] == "Buyer" and phase in (None, e["phase"])]
        said = Counter(outcomes.get(visitor) for visitor in buyers)
        demand, orders, sold_out = len(buyers), said["order"], said["sold_out"]
        waits = [e["seconds"] for e in product_pages if phase in (None, e.get("phase"))]
        latencies = [e["latency_ms"] for e in checkouts if phase in (None, e.get("phase"))]
        return {
            "buying_demand": demand,
            "orders_placed": orders,
            "sold_out": sold_out,
            "goodput": round(orders / (demand - sold_out), 4) if demand > sold_out else None,
            "arrival_to_product_p50_s": rounded(percentile(waits, 0.50)),
            "arrival_to_product_p95_s": rounded(percentile(waits, 0.95)),
            "checkout_p50_ms": rounded(percentile(latencies, 0.50)),
            "checkout_p95_ms": rounded(percentile(latencies, 0.95)),
        }

    return {WHOLE_RUN: figures(None), **{name: figures(name) for name in phases}}


def queue_left(seconds: dict[int, dict], run: dict) -> dict:
    """Visitors still waiting in the room when the run ended, and 60 s after the last wave ended.

    The second is None when the scenario names no last wave, or the run ended before then.
    """
    sampled = sorted(second for second, counts in seconds.items() if "visitors_queued" in counts)
    at_end = seconds[sampled[-1]]["visitors_queued"] if sampled else None
    wave = next((phase for phase in run["phases"] if phase["name"] == run.get("last_wave_phase")), None)
    after = None
    if wave and sampled:
        when = run["started_at"] + wave["end"] + AFTER_LAST_WAVE_SECONDS
        if sampled[-1] >= when - 2:  # the run lasted until then (its last sample may fall a second short)
            after = seconds[max(second for second in sampled if second <= when)]["visitors_queued"]
    return {"queue_at_end": at_end, "queued_60s_after_last_wave": after}


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
