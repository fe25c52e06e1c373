"""The scenarios' shapes (the arrivals model is loadtest/arrivals.py; the ramp and the overload, loadtest/stress.py)."""

from __future__ import annotations

from dataclasses import replace

from loadtest.arrivals import USUAL_VISITORS_PER_SECOND, ArrivalShape, Phase
from loadtest.stress import Overload, Ramp

SPIKE = USUAL_VISITORS_PER_SECOND * 19  # campaign visitors on top of the usual: 20x in all
SECOND_WAVE = USUAL_VISITORS_PER_SECOND * 9  # 10x


class Baseline(ArrivalShape):
    """The usual traffic: two new visitors a second, browsing, shopping and buying."""

    phases = (Phase("baseline", 180, quick=60),)
    peak_phases = ("baseline",)


class Influencer(ArrivalShape):
    """The 2023 outage: the usual traffic, then 20x within a minute from one post, a hold, a decay and a second wave.

    Ten minutes of the usual traffic first: TrafficSpike compares the last two minutes with
    the hour before them, and with less history the spike itself soon weighs in that hour.
    """

    phases = (
        Phase("baseline", 600, quick=45),
        Phase("spike", 60, 0, SPIKE, quick=20),
        Phase("spike hold", 90, SPIKE, quick=40),
        Phase("decay", 60, SPIKE, 0, quick=20),
        Phase("lull", 90, quick=15),
        Phase("second wave", 30, 0, SECOND_WAVE, quick=10),
        Phase("second wave hold", 30, SECOND_WAVE, quick=10),
        Phase("second wave decay", 30, SECOND_WAVE, 0, quick=10),
        # The usual traffic again, long enough for a waiting room's queue to drain and the alerts to resolve.
        Phase("tail", 300, quick=30),
    )
    peak_phases = ("spike", "spike hold", "decay")
    last_wave_phase = "second wave decay"


class FlashSale(ArrivalShape):
    """A product with a few units; at T0 a thousand buyers arrive within ten seconds."""

    phases = (Phase("baseline", 60, quick=30), Phase("sale", 10, 100, quick=5), Phase("after the sale", 120, quick=60))
    peak_phases = ("sale", "after the sale")
    only_kinds = {"sale": ("Buyer",)}
    last_wave_phase = "sale"


class ColdStart(ArrivalShape):
    """Five times the usual traffic; at T0 every cache is emptied (Redis, nginx), under load."""

    organic_per_second = USUAL_VISITORS_PER_SECOND * 5
    phases = (Phase("warm", 60, quick=30), Phase("cold start", 120, quick=60))
    empties_caches_at = "cold start"
    baseline_phase = "warm"
    peak_phases = ("cold start",)


class Smoke(ArrivalShape):
    """A few visitors for a few seconds: CI checks that the harness works end to end."""

    organic_per_second = 1.5
    phases = (Phase("smoke", 10), Phase("finish", 30, organic=0))  # time for the last to buy
    baseline_phase = "finish"
    peak_phases = ("smoke", "finish")
    last_wave_phase = "smoke"


SHAPES: dict[str, type[ArrivalShape]] = {
    "baseline": Baseline,
    "influencer": Influencer,
    "flash-sale": FlashSale,
    "cold-start": ColdStart,
    "smoke": Smoke,
    "ramp": Ramp,
    "overload": Overload,
}


def shape_for(scenario: str, *, quick: bool, rate: float | None = None) -> type[ArrivalShape]:
    """The shape class to run for ``scenario``, shortened when ``quick``; ``rate`` is the overload's held rate."""
    shape = SHAPES[scenario]
    phases = shape.phases
    if rate is not None:
        if not hasattr(shape, "phases_at"):
            raise ValueError(f"the {scenario} scenario takes no rate")
        phases = shape.phases_at(rate)
    if quick:
        phases = tuple(replace(phase, seconds=phase.quick or phase.seconds) for phase in phases)
    return type(shape.__name__, (shape,), {"phases": phases})
