"""The rehearsed scale-out's figures (loadtest/scaleout.py): the minute before it against the minute after it."""

from __future__ import annotations

from loadtest.report import summarise
from loadtest.report_page import headline
from loadtest.scaleout import reference
from tests.loadtest.test_report import CLEAN_AUDIT, STARTED, arrival, buyer, write_record

ASKED, READY = 100, 130  # seconds into the run


def let_in(at, waited):
    return {
        "type": "room",
        "visitor": f"v{at}",
        "phase": "spike",
        "at": STARTED + at,
        "waited": waited,
        "estimate": None,
    }


def queued(samples):
    """seconds.json with the room's line sampled at {second into the run: visitors waiting}."""
    return {str(int(STARTED) + second): {"requests": 1, "visitors_queued": count} for second, count in samples.items()}


def moments():
    scaled = {
        "alert": "WaitingRoomEngaged",
        "web_before": 2,
        "web_after": 5,
        "requested_at": STARTED + ASKED,
        "started_at": STARTED + ASKED + 2,  # the containers run
        "ready_at": STARTED + READY,  # and pass their health checks
        "error": "",
    }
    return reference(
        {"stampede": {"scale_out": None}, "stampede-scale-out": {"scale_out": scaled}},
        {
            "stampede": STARTED,
            "stampede-scale-out": STARTED,
        },
    )


def test_the_moments_come_from_the_configuration_that_scaled_as_seconds_into_its_run():
    assert moments() == {
        "configuration": "stampede-scale-out",
        "alert": "WaitingRoomEngaged",
        "web_before": 2,
        "web_after": 5,
        "requested_after_s": ASKED,
        "started_after_s": ASKED + 2,
        "ready_after_s": READY,
        "error": "",
    }
    assert reference({"stampede": {"scale_out": None}}, {"stampede": STARTED}) is None


def test_admissions_the_line_and_orders_are_counted_in_the_minute_before_asking_and_the_minute_after_ready(tmp_path):
    events = [
        *(let_in(at, waited=20) for at in range(41, 100, 2)),  # 30 in the minute before: 30 a minute
        *(let_in(at, waited=5) for at in range(131, 190)),  # 59 in the minute after ready: 59 a minute
        let_in(110, waited=1),  # while the replicas started: in neither minute
        buyer("a", 50, "order", phase="spike"),
        *(buyer(f"b{at}", at, "order", phase="spike") for at in (140, 150, 160)),
        buyer("c", 170, "gave_up", phase="spike"),
    ]
    seconds = queued({60: 400, 99: 350, 140: 200, 189: 10, 205: 0, 220: 0})
    write_record(tmp_path, events, seconds)

    scaled = summarise(tmp_path, {"audit": CLEAN_AUDIT, "monitoring": {"alerts": []}}, scale_out=moments())["scale_out"]

    before, after = scaled["before"], scaled["after"]
    assert (before["admitted_per_minute"], after["admitted_per_minute"]) == (30, 59)
    assert scaled["admitted_after_vs_before"] == round(59 / 30, 2)
    assert (before["wait_p50_s"], after["wait_p50_s"]) == (20, 5)
    assert (before["queue_mean"], before["queue_at_end"], after["queue_at_end"]) == (375, 350, 10)
    assert (before["orders_per_second"], after["orders_per_second"]) == (round(1 / 60, 2), 0.05)
    # Ten seconds at 1.5x the minute before's pace first ended 40 s after the asking (130-140 s into the run).
    assert scaled["admitted_faster_after_s"] == 40
    assert scaled["queue_empty_after_s"] == 105  # nobody waiting from 205 s
    minutes = {m["minute"]: (m["admitted"], m["orders"]) for m in scaled["by_minute"]}
    assert (minutes[-1], minutes[0], minutes[1], minutes[2]) == ((30, 1), (30, 2), (30, 1), (0, 0))
    assert "admitted a minute 30 → 59 (1.97x), queue empty +105 s after the asking" in headline(
        "influencer", {"x": _complete(scaled)}
    )


def test_a_line_that_never_empties_and_a_pace_that_never_rises_say_so(tmp_path):
    events = [let_in(at, waited=60) for at in range(41, 200, 2)]  # the same pace throughout
    write_record(tmp_path, events, queued({60: 400, 150: 500, 230: 600}))

    scaled = summarise(tmp_path, {"audit": CLEAN_AUDIT, "monitoring": {"alerts": []}}, scale_out=moments())["scale_out"]

    assert scaled["admitted_after_vs_before"] == 1.0
    assert scaled["admitted_faster_after_s"] is None
    assert scaled["queue_empty_after_s"] is None


def test_a_visitor_let_in_on_arrival_is_admitted_when_they_arrived_and_one_who_queued_when_let_in(tmp_path):
    events = [
        arrival("straight", 50, kind="Browser", phase="spike"),  # never in line
        arrival("queued", 55, phase="spike"),
        {"type": "queued", "visitor": "queued", "phase": "spike", "at": STARTED + 55.5},
        {**let_in(140, waited=84.5), "visitor": "queued"},
    ]
    write_record(tmp_path, events, queued({60: 1, 150: 0}))

    scaled = summarise(tmp_path, {"audit": CLEAN_AUDIT, "monitoring": {"alerts": []}}, scale_out=moments())["scale_out"]

    assert (scaled["before"]["admitted_per_minute"], scaled["before"]["let_in_per_minute"]) == (1, 0)
    assert (scaled["after"]["admitted_per_minute"], scaled["after"]["let_in_per_minute"]) == (1, 1)


def _complete(scaled):
    """The fields the rest of the headline reads, around the scale-out's."""
    peak = {"checkout_p95_ms": 1, "checkout_p95_at_nginx_ms": None}
    rest = dict.fromkeys(
        "orders_placed buying_demand buyers_sold_out goodput queue_at_end arrival_to_product_p95_s checkout_p95_ms"
        " checkout_success http_5xx orders_lost oversold duplicate_charges".split(),
        0,
    )
    return {**rest, "scale_out": scaled, "baseline": peak, "peak": peak, "alerts_fired": []}
