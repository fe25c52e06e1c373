"""The report's figures, from a hand-made record: what each field counts."""

from __future__ import annotations

import json
import re

import pytest

from deploy.stack import ROOT
from loadtest.record import percentile
from loadtest.report import summarise
from loadtest.report_page import headline

STARTED = 1_000_000.0
PHASES = [{"name": "baseline", "start": 0, "end": 100}, {"name": "spike", "start": 100, "end": 200}]
CLEAN_AUDIT = {"orders_lost": 0, "oversold": 0, "duplicate_charges": 0, "duplicate_emails": 0}


def write_record(folder, events, seconds=None, **run):
    record = folder / "record"
    record.mkdir(parents=True)
    run = {
        "started_at": STARTED,
        "phases": PHASES,
        "baseline_phase": "baseline",
        "peak_phases": ["spike"],
        "visitors": 7,
        **run,
    }
    (record / "run.json").write_text(json.dumps(run))
    (record / "seconds.json").write_text(json.dumps(seconds or {str(int(STARTED)): {"requests": 5}}))
    (record / "events.jsonl").write_text("".join(json.dumps(event) + "\n" for event in events))


def checkout(visitor, at, latency_ms, outcome="order", phase="baseline"):
    return {
        "type": "checkout",
        "visitor": visitor,
        "phase": phase,
        "at": STARTED + at,
        "latency_ms": latency_ms,
        "outcome": outcome,
    }


def buyer(visitor, at, outcome, phase="baseline"):
    return {"type": "buyer", "visitor": visitor, "phase": phase, "at": STARTED + at, "outcome": outcome}


def arrival(visitor, at, kind="Buyer", phase="baseline"):
    return {"type": "arrival", "visitor": visitor, "phase": phase, "at": STARTED + at, "kind": kind}


def product_page(visitor, at, seconds, phase="baseline"):
    return {"type": "product page", "visitor": visitor, "phase": phase, "at": STARTED + at, "seconds": seconds}


def figures(tmp_path, events, seconds=None, **run):
    write_record(tmp_path, events, seconds, **run)
    return summarise(tmp_path, {"audit": CLEAN_AUDIT, "monitoring": {"alerts": []}})


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))

    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50, 95, 99)
    assert percentile([], 0.95) is None


def test_a_sold_out_answer_at_checkout_is_not_a_failure_but_giving_up_is(tmp_path):
    result = figures(
        tmp_path,
        [
            checkout("a", 10, 100),
            buyer("a", 11, "order"),
            checkout("b", 20, 120, "sold_out"),
            buyer("b", 21, "sold_out"),
            checkout("c", 30, 900, "retry"),
            buyer("c", 31, "gave_up"),
        ],
    )

    assert result["checkout_attempts"] == 3
    assert result["checkout_sold_out"] == 1
    assert result["checkout_success"] == 0.5


def test_a_buyer_counts_in_the_phase_they_submitted_in_whenever_their_answer_came(tmp_path):
    result = figures(
        tmp_path,
        [
            checkout("early", 50, 100),
            buyer("early", 51, "order"),
            checkout("late", 190, 5000),
            buyer("late", 230, "order"),  # answered after the spike ended
        ],
    )

    assert (result["baseline"]["checkout_attempts"], result["baseline"]["checkout_p95_ms"]) == (1, 100)
    assert (result["peak"]["checkout_success"], result["peak"]["checkout_p95_ms"]) == (1.0, 5000)
    assert result["checkout_p95_peak_vs_baseline"] == 50


def test_the_room_estimate_error_is_the_median_over_waits_longer_than_a_poll(tmp_path):
    room = [
        {"type": "room", "visitor": str(n), "at": STARTED, "waited": waited, "estimate": estimate, "known": True}
        for n, (waited, estimate) in enumerate([(100, 110), (100, 150), (20, 20), (3, 60)])
    ]

    result = figures(tmp_path, room)

    assert result["waitingroom_eta_error"] == pytest.approx(0.1)  # (0.1, 0.5, 0.0): the 3 s wait is left out
    assert result["waitingroom_queued_visitors"] == 4


def test_errors_and_the_peak_rate_come_from_every_second_of_the_run(tmp_path):
    seconds = {str(int(STARTED) + s): {"requests": 10 * s, "5xx": 1} for s in range(10)}

    result = figures(tmp_path, [], seconds)

    assert result["http_5xx"] == 10
    assert result["peak_rps"] == 70.0  # the best five seconds (50 to 90 requests), averaged
    assert result["waitingroom_eta_error"] is None  # nobody waited


def nginx_line(format_, **values):
    """One access-log line in ``format_`` (the template's log_format), nginx's $variables filled in."""
    return re.sub(r"\$(\w+)", lambda match: values.get(match[1], "-"), format_) + "\n"


def test_checkout_is_also_timed_at_nginx_from_the_stacks_access_log(tmp_path):
    template = (ROOT / "deploy/nginx/stampede.conf.template").read_text()
    format_ = "".join(re.findall(r"'([^']*)'", re.search(r"log_format stampede_timed (.*?);", template, re.S)[1]))
    lines = [
        nginx_line(
            format_,
            request="POST /checkout/ HTTP/1.1",
            status="302",
            msec=f"{STARTED + at:.3f}",
            request_time=f"{seconds:.3f}",
        )
        for at, seconds in ((10, 0.020), (150, 0.060), (160, 0.030))
    ]
    lines.append(
        nginx_line(
            format_, request="GET /checkout/ HTTP/1.1", status="200", msec=f"{STARTED + 20:.3f}", request_time="9.000"
        )
    )  # the form, not an order placed: not counted
    logs = tmp_path / "stack" / "logs"
    logs.mkdir(parents=True)
    (logs / "nginx-access.log").write_text("".join(lines))

    result = figures(tmp_path, [checkout("a", 10, 25.0)])

    assert result["baseline"]["checkout_p95_at_nginx_ms"] == 20.0
    assert result["peak"]["checkout_p95_at_nginx_ms"] == 60.0
    assert result["checkout_p95_peak_vs_baseline_at_nginx"] == 3.0


def test_goodput_is_orders_against_every_buyer_who_arrived_with_sold_out_answers_counted_apart(tmp_path):
    events = [
        arrival("b1", 10),
        product_page("b1", 12, 2.0),
        checkout("b1", 20, 100),
        buyer("b1", 21, "order"),
        arrival("b2", 30),
        product_page("b2", 32, 2.0),
        buyer("b2", 33, "sold_out"),  # a correct answer, not a lost sale
        arrival("b3", 150, phase="spike"),  # still in the room when the run ended: no outcome at all
        arrival("b4", 150, phase="spike"),
        product_page("b4", 180, 30.0, phase="spike"),  # waited in the room first
        checkout("b4", 195, 400, phase="spike"),
        buyer("b4", 196, "order", phase="spike"),
        arrival("b5", 160, phase="spike"),
        buyer("b5", 170, "gave_up", phase="spike"),
        arrival("s1", 160, kind="Shopper", phase="spike"),
        product_page("s1", 170, 10.0, phase="spike"),
        arrival("v1", 160, kind="Browser", phase="spike"),
    ]

    result = figures(tmp_path, events)
    phases = result["goodput_by_phase"]

    assert (result["buying_demand"], result["orders_placed"], result["buyers_sold_out"]) == (5, 2, 1)
    assert result["goodput"] == 0.5  # 2 orders of the 4 buyers who could have bought
    assert (phases["baseline"]["buying_demand"], phases["baseline"]["goodput"]) == (2, 1.0)
    assert (phases["spike"]["buying_demand"], phases["spike"]["orders_placed"]) == (3, 1)
    assert phases["spike"]["goodput"] == pytest.approx(0.3333)
    assert (phases["spike"]["arrival_to_product_p50_s"], phases["spike"]["arrival_to_product_p95_s"]) == (10.0, 30.0)
    assert phases["spike"]["checkout_p95_ms"] == 400  # by the phase the buyer arrived in
    assert phases["whole run"]["buying_demand"] == 5


def test_the_queue_is_read_at_the_end_and_a_minute_after_the_last_wave(tmp_path):
    seconds = {str(int(STARTED) + s): {"requests": 1, "visitors_queued": 300 - s} for s in range(0, 300)}

    result = figures(tmp_path, [], seconds, last_wave_phase="baseline")  # it ended at 100 s

    assert result["queued_60s_after_last_wave"] == 140  # the sample at 160 s
    assert result["queue_at_end"] == 1


def test_no_queue_after_the_last_wave_is_reported_for_a_run_that_ended_before_then(tmp_path):
    seconds = {str(int(STARTED) + s): {"visitors_queued": 5} for s in range(0, 230)}

    assert figures(tmp_path, [], seconds, last_wave_phase="spike")["queued_60s_after_last_wave"] is None
    assert figures(tmp_path / "none", [], seconds)["queued_60s_after_last_wave"] is None  # no wave named


def test_the_headline_leads_with_orders_and_goodput_for_every_configuration(tmp_path):
    result = figures(tmp_path, [arrival("b1", 10), buyer("b1", 20, "order"), arrival("b2", 10)])

    line = headline("influencer", {"stampede": result, "2023": result})

    assert line.startswith("loadtest influencer: stampede: orders 1 of 2 buyers (0 sold out), goodput 50.0%")
    assert "| 2023: orders 1 of 2 buyers" in line
    assert line.index("goodput") < line.index("checkout p95")
