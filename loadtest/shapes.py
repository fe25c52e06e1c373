"""The scenarios' shapes: how many new visitors arrive each second, and which kind.

An open model: visitors arrive at the shape's rate whatever the shop does, as people
clicking a link do. A slow shop does not receive less traffic; its visitors pile up.
Locust spawns users at a rate, so each visitor is one Locust user that makes one visit
and then stays idle: the target user count is the number of visitors arrived so far,
and the spawn rate is the arrival rate (the locustfile's LoadTestShape asks ``target``).
This module does not import Locust, whose import patches the whole process for gevent:
the harness and the tests read the shapes without that.

Two streams add up: organic visitors (the shop's usual traffic, browsing) and campaign
visitors (the influencer's link, or the sale); ``campaign_share()`` tells a new visitor
which one it belongs to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

USUAL_VISITORS_PER_SECOND = 2.0


@dataclass(frozen=True)
class Phase:
    """A stretch of a scenario: campaign arrivals go linearly from ``start`` to ``end`` per second.

    ``organic`` replaces the shape's usual arrivals for the phase (0: nobody new comes).
    """

    name: str
    seconds: float
    start: float = 0.0
    end: float | None = None
    organic: float | None = None

    @property
    def final(self) -> float:
        return self.start if self.end is None else self.end


class ArrivalShape:
    organic_per_second = USUAL_VISITORS_PER_SECOND
    phases: tuple[Phase, ...] = ()
    quick_phases: tuple[Phase, ...] = ()  # the same story, shorter: QUICK=1
    # The report compares checkout under the peak phases with checkout under the baseline one.
    baseline_phase = "baseline"
    peak_phases: tuple[str, ...] = ()
    # Phases in which every new visitor is of these kinds (by class name); else every kind, by weight.
    only_kinds: dict[str, tuple[str, ...]] = {}
    # The phase at whose start every cache is emptied, if any.
    empties_caches_at: str | None = None

    @property
    def duration(self) -> float:
        return sum(phase.seconds for phase in self.phases)

    def phase_at(self, t: float) -> tuple[Phase, float]:
        """The phase running at ``t`` seconds, and how far into it."""
        for phase in self.phases:
            if t < phase.seconds:
                return phase, t
            t -= phase.seconds
        return self.phases[-1], self.phases[-1].seconds

    def campaign_rate(self, t: float) -> float:
        phase, into = self.phase_at(t)
        return phase.start + (phase.final - phase.start) * into / phase.seconds

    def organic_rate(self, t: float) -> float:
        phase = self.phase_at(t)[0]
        return self.organic_per_second if phase.organic is None else phase.organic

    def arrivals_until(self, t: float) -> float:
        """Visitors arrived in the first ``t`` seconds: the integral of both streams."""
        total, elapsed = 0.0, 0.0
        for phase in self.phases:
            span = max(0.0, min(phase.seconds, t - elapsed))
            rate_at_span_end = phase.start + (phase.final - phase.start) * span / phase.seconds
            organic = self.organic_per_second if phase.organic is None else phase.organic
            total += span * ((phase.start + rate_at_span_end) / 2 + organic)
            elapsed += phase.seconds
        return total

    def campaign_share(self, t: float) -> float:
        """The chance that a visitor arriving at ``t`` came through the campaign."""
        campaign = self.campaign_rate(t)
        return campaign / (campaign + self.organic_rate(t)) if campaign else 0.0

    def timeline(self) -> list[dict]:
        """Each phase with its start and end, in seconds from the start of the run."""
        spans, start = [], 0.0
        for phase in self.phases:
            spans.append({"name": phase.name, "start": start, "end": start + phase.seconds})
            start += phase.seconds
        return spans

    def target(self, t: float) -> tuple[int, float, tuple[str, ...]] | None:
        """Locust's next step at ``t``: users in all (visitors so far), spawn rate, the kinds; None at the end."""
        if t >= self.duration:
            return None
        rate = self.organic_rate(t) + self.campaign_rate(t)
        arrived = max(1, math.ceil(self.arrivals_until(t + 1)))  # who arrives within the next second
        return arrived, max(rate, 0.5), self.only_kinds.get(self.phase_at(t)[0].name, ())


SPIKE = USUAL_VISITORS_PER_SECOND * 19  # campaign visitors on top of the usual: 20x in all
SECOND_WAVE = USUAL_VISITORS_PER_SECOND * 9  # 10x


class Baseline(ArrivalShape):
    """The usual traffic: two new visitors a second, browsing, shopping and buying."""

    phases = (Phase("baseline", 180),)
    quick_phases = (Phase("baseline", 60),)
    peak_phases = ("baseline",)


class Influencer(ArrivalShape):
    """The 2023 outage: the usual traffic, then 20x within a minute from one post, a hold, a decay and a second wave.

    Ten minutes of the usual traffic first: TrafficSpike compares the last two minutes with
    the hour before them, and with less history the spike itself soon weighs in that hour.
    """

    phases = (
        Phase("baseline", 600),
        Phase("spike", 60, 0, SPIKE),
        Phase("spike hold", 90, SPIKE),
        Phase("decay", 60, SPIKE, 0),
        Phase("lull", 90),
        Phase("second wave", 30, 0, SECOND_WAVE),
        Phase("second wave hold", 30, SECOND_WAVE),
        Phase("second wave decay", 30, SECOND_WAVE, 0),
        # The usual traffic again, long enough for a waiting room's queue to drain and the alerts
        # to resolve (a run that ended with both still engaged showed 180 s was not).
        Phase("tail", 300),
    )
    quick_phases = (
        Phase("baseline", 45),
        Phase("spike", 20, 0, SPIKE),
        Phase("spike hold", 40, SPIKE),
        Phase("decay", 20, SPIKE, 0),
        Phase("lull", 15),
        Phase("second wave", 10, 0, SECOND_WAVE),
        Phase("second wave hold", 10, SECOND_WAVE),
        Phase("second wave decay", 10, SECOND_WAVE, 0),
        Phase("tail", 30),
    )
    peak_phases = ("spike", "spike hold", "decay")


class FlashSale(ArrivalShape):
    """A product with a few units; at T0 a thousand buyers arrive within ten seconds."""

    phases = (Phase("baseline", 60), Phase("sale", 10, 100), Phase("after the sale", 120))
    quick_phases = (Phase("baseline", 30), Phase("sale", 5, 100), Phase("after the sale", 60))
    peak_phases = ("sale", "after the sale")
    only_kinds = {"sale": ("Buyer",)}


class ColdStart(ArrivalShape):
    """Five times the usual traffic; at T0 every cache is emptied (Redis, nginx), under load."""

    organic_per_second = USUAL_VISITORS_PER_SECOND * 5
    phases = (Phase("warm", 60), Phase("cold start", 120))
    quick_phases = (Phase("warm", 30), Phase("cold start", 60))
    empties_caches_at = "cold start"
    baseline_phase = "warm"
    peak_phases = ("cold start",)


class Smoke(ArrivalShape):
    """A few visitors for a few seconds: CI checks that the harness works end to end."""

    organic_per_second = 1.5
    phases = quick_phases = (Phase("smoke", 10), Phase("finish", 30, organic=0))  # time for the last to buy
    baseline_phase = "finish"
    peak_phases = ("smoke", "finish")


SHAPES: dict[str, type[ArrivalShape]] = {
    "baseline": Baseline,
    "influencer": Influencer,
    "flash-sale": FlashSale,
    "cold-start": ColdStart,
    "smoke": Smoke,
}


def shape_for(scenario: str, *, quick: bool) -> type[ArrivalShape]:
    """The shape class to run for ``scenario``: its own phases, or its shortened ones when ``quick``."""
    shape = SHAPES[scenario]
    return type(shape.__name__, (shape,), {"phases": shape.quick_phases}) if quick else shape
