"""The ramp (steps that rise and hold, ending after the first step out of bound) and the overload (a held spike)."""

from __future__ import annotations

import pytest

from loadtest.arrivals import USUAL_VISITORS_PER_SECOND
from loadtest.shapes import shape_for
from loadtest.stress import CHECKOUT_P95_BOUND_MS, step_figures, within_bound

WITHIN = {"checkout_p95_ms": 300.0, "responses": 1000, "errors": 0}


def rate_at(shape, t: float) -> float:
    return shape.organic_rate(t) + shape.campaign_rate(t)


def test_the_ramps_steps_rise_and_each_holds_its_rate():
    shape = shape_for("ramp", quick=False)()
    steps = shape.timeline()

    rates = [step["visitors_per_second"] for step in steps]
    assert rates == sorted(set(rates)) and rates[0] == 4 and rates[-1] == 64
    for step in steps:
        assert step["end"] - step["start"] >= 60
        assert rate_at(shape, step["start"]) == rate_at(shape, step["end"] - 1) == step["visitors_per_second"]
        assert shape.campaign_share(step["start"]) == 0  # every kind, by weight, as on a usual day
        assert shape.target(step["start"] + 1)[2] == ()


def test_quick_ramp_steps_are_shorter_but_still_settle():
    steps = shape_for("ramp", quick=True)().timeline()

    assert all(30 <= step["end"] - step["start"] < 60 for step in steps)


def test_a_step_fails_on_a_slow_checkout_or_on_errors_over_one_percent():
    assert within_bound(WITHIN)
    assert within_bound({**WITHIN, "checkout_p95_ms": CHECKOUT_P95_BOUND_MS})
    assert not within_bound({**WITHIN, "checkout_p95_ms": CHECKOUT_P95_BOUND_MS + 1})
    assert within_bound({**WITHIN, "errors": 10})
    assert not within_bound({**WITHIN, "errors": 11})
    assert within_bound({**WITHIN, "checkout_p95_ms": None})  # no checkout answered: judged on errors alone


def test_the_ramp_ends_after_the_first_step_out_of_bound():
    shape = shape_for("ramp", quick=True)()
    steps = shape.timeline()
    slow_from = steps[3]["start"]  # the fourth step is too slow
    figures = lambda start, end: {**WITHIN, "checkout_p95_ms": 5000.0 if start >= slow_from else 300.0}  # noqa: E731

    judged, t = [], 0
    while True:  # as the locustfile ticks: judge any step that has ended, then ask for the next target
        judged.append(shape.after_step(t, figures))
        if shape.target(t) is None:
            break
        t += 1
    assert [f["step"] for f in judged if f] == [step["name"] for step in steps[:4]]  # each once, at its end
    assert t == steps[3]["end"]  # the fifth step never starts
    assert shape.failed_step == steps[3]["name"]


def test_a_steps_figures_count_its_own_seconds_and_checkouts_only():
    checkouts = [(99.5, 2000.0), (100.0, 100.0), (150.0, 200.0), (160.0, 300.0), (200.0, 9000.0)]
    seconds = {
        s: {"requests": 10, "5xx": 1 if s == 120 else 0, "no_response": 2 if s == 200 else 0} for s in range(90, 210)
    }

    figures = step_figures(checkouts, seconds, 100.0, 200.0)

    assert figures == {"checkouts": 3, "checkout_p95_ms": 300.0, "responses": 1000, "errors": 1}


def test_the_overload_rises_to_its_rate_and_holds_it_mostly_through_the_campaign():
    shape = shape_for("overload", quick=False, rate=48)()
    spans = {span["name"]: span for span in shape.timeline()}

    assert rate_at(shape, spans["baseline"]["start"]) == USUAL_VISITORS_PER_SECOND
    assert spans["rise"]["end"] - spans["rise"]["start"] == 20
    assert spans["hold"]["end"] - spans["hold"]["start"] == 180
    assert rate_at(shape, spans["hold"]["start"]) == rate_at(shape, spans["hold"]["end"] - 1) == pytest.approx(48)
    assert shape.campaign_share(spans["hold"]["start"] + 1) > 0.9
    assert rate_at(shape, spans["tail"]["start"] + 1) == USUAL_VISITORS_PER_SECOND
    assert shape.last_wave_phase == "hold"


def test_quick_overload_holds_half_as_long_and_only_the_overload_takes_a_rate():
    quick = {span["name"]: span for span in shape_for("overload", quick=True, rate=48)().timeline()}

    assert quick["hold"]["end"] - quick["hold"]["start"] == 90
    with pytest.raises(ValueError):
        shape_for("influencer", quick=True, rate=48)
