"""The shapes that look for the shop's limit: the ramp (step by step until a step fails) and the overload.

The ramp's rule, ``within_bound()``, serves both the live run (the locustfile ends the ramp
after the first step that failed) and the report (a configuration's capacity is the highest
step before it): one rule, so the report never judges a step the run judged otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from loadtest.arrivals import USUAL_VISITORS_PER_SECOND, ArrivalShape, Phase
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


def step_name(rate: float) -> str:
    return f"{rate:g} visitors/s"


def step_figures(checkouts: list[tuple[float, float]], seconds: dict[int, dict], start: float, end: float) -> dict:
    """A step's checkouts (their p95) and responses (and errors) between ``start`` and ``end`` (wall clock).

    ``checkouts`` holds (when answered, latency in ms); ``seconds`` the record's per-second counts.
    """
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
    if p95 is not None and p95 > CHECKOUT_P95_BOUND_MS:
        return False
    return figures["errors"] <= ERROR_SHARE_BOUND * figures["responses"]


class Ramp(ArrivalShape):
    """Visitors of every kind, more every step, each step held; it ends after the first step out of bound.

    No campaign: the same mix as the usual traffic, so a step's rate is the shop's usual day scaled.
    """

    phases = tuple(
        Phase(step_name(rate), RAMP_STEP_SECONDS, organic=rate, quick=RAMP_STEP_QUICK_SECONDS) for rate in RAMP_STEPS
    )
    baseline_phase = step_name(RAMP_STEPS[0])
    peak_phases = tuple(step_name(rate) for rate in RAMP_STEPS[1:])

    def __init__(self) -> None:
        self.judged: list[dict] = []
        self.failed_step: str | None = None

    def timeline(self) -> list[dict]:
        return [
            {**span, "visitors_per_second": phase.organic}
            for span, phase in zip(super().timeline(), self.phases, strict=True)
        ]

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
