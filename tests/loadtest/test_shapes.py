"""The scenarios' shapes: open arrivals, the influencer's 20x within a minute, the sale's rush of buyers."""

from __future__ import annotations

import pytest

from loadtest.arrivals import USUAL_VISITORS_PER_SECOND, ArrivalShape
from loadtest.shapes import SHAPES, shape_for


def total_rate(shape: ArrivalShape, t: float) -> float:
    return shape.organic_rate(t) + shape.campaign_rate(t)


def phase_start(shape: ArrivalShape, name: str) -> float:
    return next(span["start"] for span in shape.timeline() if span["name"] == name)


def test_the_influencer_brings_twenty_times_the_usual_visitors_within_a_minute():
    shape = shape_for("influencer", quick=False)()
    spike = phase_start(shape, "spike")

    assert total_rate(shape, spike - 1) == USUAL_VISITORS_PER_SECOND
    assert total_rate(shape, spike + 60) == pytest.approx(20 * USUAL_VISITORS_PER_SECOND)
    assert total_rate(shape, phase_start(shape, "second wave") + 30) == pytest.approx(10 * USUAL_VISITORS_PER_SECOND)
    assert total_rate(shape, shape.duration - 1) == USUAL_VISITORS_PER_SECOND


def test_campaign_visitors_are_most_of_the_crowd_at_the_peak_and_none_before():
    shape = shape_for("influencer", quick=False)()

    assert shape.campaign_share(10) == 0
    assert shape.campaign_share(phase_start(shape, "spike hold") + 1) == pytest.approx(0.95)


@pytest.mark.parametrize("scenario", sorted(SHAPES))
def test_locust_is_asked_for_every_visitor_arrived_so_far_at_the_arrival_rate(scenario):
    shape = shape_for(scenario, quick=True)()
    steps = [shape.target(t) for t in range(int(shape.duration))]

    users = [step[0] for step in steps]
    assert users == sorted(users)  # nobody leaves the count: gone visitors stay as idle users
    assert users[-1] == pytest.approx(shape.arrivals_until(shape.duration), abs=2)
    assert all(rate == max(total_rate(shape, t), 0.5) for t, (_, rate, _) in enumerate(steps))
    assert shape.target(shape.duration) is None


def test_during_the_flash_sale_every_new_visitor_is_a_buyer():
    shape = shape_for("flash-sale", quick=False)()
    sale = phase_start(shape, "sale")

    assert shape.target(sale + 1)[2] == ("Buyer",)
    assert shape.target(sale - 1)[2] == ()  # before it: every kind, by weight
    assert shape.arrivals_until(sale + 10) - shape.arrivals_until(sale) == pytest.approx(1000 + 20)


def test_quick_runs_the_same_phases_shorter():
    full, quick = shape_for("influencer", quick=False)(), shape_for("influencer", quick=True)()

    assert [span["name"] for span in quick.timeline()] == [span["name"] for span in full.timeline()]
    assert quick.duration < full.duration / 5
    assert total_rate(quick, phase_start(quick, "spike hold") + 1) == total_rate(
        full, phase_start(full, "spike hold") + 1
    )


def test_the_cold_start_empties_the_caches_in_a_phase_of_its_own():
    shape = shape_for("cold-start", quick=True)()

    assert shape.empties_caches_at in {span["name"] for span in shape.timeline()}
