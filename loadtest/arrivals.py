"""The arrivals model of the scenarios' shapes: how many new visitors arrive each second, and which kind.

An open model: visitors arrive at the shape's rate whatever the shop does, as people clicking a link
do. Two streams add up: organic (the usual traffic) and campaign (the influencer's link, or the sale).
Each visitor is one Locust user making one visit, so ``target`` gives Locust the visitors arrived so
far as its user count, and the arrival rate as its spawn rate. No Locust import (it patches the
process for gevent): the harness and the tests read the shapes without it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

USUAL_VISITORS_PER_SECOND = 2.0


@dataclass(frozen=True)
class Phase:
    """A stretch of a scenario: campaign arrivals go linearly from ``start`` to ``end`` per second.

    ``organic`` replaces the shape's usual arrivals for the phase (0: nobody new comes);
    ``quick`` is its length in the shortened scenario (QUICK=1), if not the same.
    """

    name: str
    seconds: float
    start: float = 0.0
    end: float | None = None
    organic: float | None = None
    quick: float | None = None

    def campaign_rate(self, into: float) -> float:
        """Campaign visitors a second ``into`` seconds into the phase."""
        final = self.start if self.end is None else self.end
        return self.start + (final - self.start) * into / self.seconds


class ArrivalShape:
    organic_per_second = USUAL_VISITORS_PER_SECOND
    phases: tuple[Phase, ...] = ()  # the same story shorter with QUICK=1: each phase's ``quick`` seconds
    # The report compares checkout under the peak phases with checkout under the baseline one.
    baseline_phase = "baseline"
    peak_phases: tuple[str, ...] = ()
    # Phases in which every new visitor is of these kinds (by class name); else every kind, by weight.
    only_kinds: dict[str, tuple[str, ...]] = {}
    # The phase at whose start every cache is emptied, if any.
    empties_caches_at: str | None = None
    # The last phase of the last wave: the report counts who is still in the room 60 s after it ends.
    last_wave_phase: str | None = None

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
        return phase.campaign_rate(into)

    def organic_rate(self, t: float) -> float:
        return self._organic(self.phase_at(t)[0])

    def _organic(self, phase: Phase) -> float:
        return self.organic_per_second if phase.organic is None else phase.organic

    def arrivals_until(self, t: float) -> float:
        """Visitors arrived in the first ``t`` seconds: the integral of both streams."""
        total = 0.0
        for phase, start in self._starts():
            span = max(0.0, min(phase.seconds, t - start))
            total += span * ((phase.start + phase.campaign_rate(span)) / 2 + self._organic(phase))
        return total

    def campaign_share(self, t: float) -> float:
        """The chance that a visitor arriving at ``t`` came through the campaign."""
        campaign = self.campaign_rate(t)
        return campaign / (campaign + self.organic_rate(t)) if campaign else 0.0

    def timeline(self) -> list[dict]:
        """Each phase with its start and end, in seconds from the start of the run."""
        return [{"name": phase.name, "start": start, "end": start + phase.seconds} for phase, start in self._starts()]

    def _starts(self) -> Iterator[tuple[Phase, float]]:
        start = 0.0
        for phase in self.phases:
            yield phase, start
            start += phase.seconds

    def target(self, t: float) -> tuple[int, float, tuple[str, ...]] | None:
        """Locust's next step at ``t``: users in all (visitors so far), spawn rate, the kinds; None at the end."""
        if t >= self.duration:
            return None
        rate = self.organic_rate(t) + self.campaign_rate(t)
        arrived = max(1, math.ceil(self.arrivals_until(t + 1)))  # who arrives within the next second
        return arrived, max(rate, 0.5), self.only_kinds.get(self.phase_at(t)[0].name, ())
