"""The report's figures, from a hand-made record: what each field counts."""

from __future__ import annotations

import json
import re

import pytest

from loadtest.record import percentile
from loadtest.report import summarise
from loadtest.stacks import ROOT

STARTED = 1_000_000.0
PHASES = [{"name": "baseline", "start": 0, "end": 100}, {"name": "spike", "start": 100, "end": 200}]
CLEAN_AUDIT = {"orders_lost": 0, "oversold": 0, "duplicate_charges": 0, "duplicate_emails": 0}


def write_record(folder, events, seconds=None):
    record = folder / "record"
    record.mkdir(parents=True)
    run = {
        "started_at": STARTED,
        "phases": PHASES,
        "baseline_phase": "baseline",
        "peak_phases": ["spike"],
        "visitors": 7,
    }
    (record / "run.json").write_text(json.dumps(run))
    (record / "seconds.json").write_text(json.dumps(seconds or {str(int(STARTED)): {"requests": 5}}))
    (record / "events.jsonl").write_text("".join(json.dumps(event) + "\n" for event in events))


def checkout(visitor, at, latency_ms, outcome="order"):
    return {"type": "checkout", "visitor": visitor, "at": STARTED + at, "latency_ms": latency_ms, "outcome": outcome}


def buyer(visitor, at, outcome):
    return {"type": "buyer", "visitor": visitor, "at": STARTED + at, "outcome": outcome}


def figures(tmp_path, events, seconds=None):
    write_record(tmp_path, events, seconds)
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
