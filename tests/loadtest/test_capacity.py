"""The ramp's capacity (the highest step before the first out of bound) and the overload against it."""

from __future__ import annotations

import json

from loadtest.report import summarise
from loadtest.report_page import headline
from loadtest.stress import default_overload_rate, ramp_capacity, room_maximum

STARTED = 2_000_000.0
CLEAN = {"audit": {"orders_lost": 0, "oversold": 0, "duplicate_charges": 0, "duplicate_emails": 0}}
RESULT = {**CLEAN, "monitoring": {"alerts": []}}
STEPS = [
    {"name": f"{rate} visitors/s", "start": 60 * n, "end": 60 * (n + 1), "visitors_per_second": rate}
    for n, rate in enumerate([4, 8, 12, 16])
]


def record(folder, *, run: dict, events: list[dict], seconds: dict[int, dict]) -> None:
    (folder / "record").mkdir(parents=True)
    base = {"started_at": STARTED, "baseline_phase": run["phases"][0]["name"], "peak_phases": [], "visitors": 1}
    (folder / "record" / "run.json").write_text(json.dumps({**base, **run}))
    (folder / "record" / "seconds.json").write_text(json.dumps({str(int(STARTED) + s): c for s, c in seconds.items()}))
    (folder / "record" / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def event(type_: str, at: float, **fields) -> dict:
    return {"type": type_, "at": STARTED + at, "visitor": fields.pop("visitor", f"v{at}"), "phase": "", **fields}


def ramp_run(tmp_path, *, slow_step: int, errors_in_step: int | None = None, steps_run: int = 3) -> dict:
    """A ramp whose ``slow_step`` (0-based) had a 2 s checkout p95; two orders in each step's second half."""
    events, seconds = [], {}
    for n, step in enumerate(STEPS[:steps_run]):
        for k in range(10):
            latency = 2000.0 if n == slow_step else 100.0 + k
            events.append(event("checkout", step["start"] + 5 + k, latency_ms=latency))
        events += [event("buyer", step["start"] + at, outcome="order") for at in (10, 40, 50)]  # one in the first half
        events += [event("arrival", step["start"] + s, kind="Browser") for s in range(60) for _ in range(2)]
        for s in range(step["start"], step["end"]):
            seconds[s] = {"requests": 100, "5xx": 2 if n == errors_in_step else 0, "loadgen_cpu_s": s * 0.5}
    run = {"scenario": "ramp", "phases": STEPS, "stopped_at": STARTED + STEPS[steps_run - 1]["end"] + 1}
    record(tmp_path, run=run, events=events, seconds=seconds)
    return summarise(tmp_path, RESULT)["capacity"]


def test_capacity_is_the_last_step_before_the_first_one_whose_checkout_p95_passed_the_bound(tmp_path):
    capacity = ramp_run(tmp_path, slow_step=2)

    assert (capacity["visitors_per_second"], capacity["step"]) == (8, "8 visitors/s")
    assert capacity["orders_per_second"] == round(2 / 30, 2)  # the step's second half only: once settled
    assert [step["within_bound"] for step in capacity["step_figures"]] == [True, True, False]


def test_a_step_with_errors_over_one_percent_of_its_responses_is_out_of_bound(tmp_path):
    capacity = ramp_run(tmp_path, slow_step=99, errors_in_step=1)

    assert capacity["visitors_per_second"] == 4
    assert capacity["step_figures"][1]["error_share"] == 0.02


def test_each_steps_figures_say_what_locust_offered_and_used(tmp_path):
    step = ramp_run(tmp_path, slow_step=99)["step_figures"][0]

    assert (step["arrived_per_second"], step["loadgen_cpu_share"], step["loadgen_saturated"]) == (2.0, 0.5, False)
    assert (step["checkouts"], step["responses"], step["errors"]) == (10, 6000, 0)


def test_a_step_the_ramp_did_not_reach_the_end_of_is_left_out(tmp_path):
    capacity = ramp_run(tmp_path, slow_step=99, steps_run=2)

    assert [step["step"] for step in capacity["step_figures"]] == ["4 visitors/s", "8 visitors/s"]
    assert capacity["visitors_per_second"] == 8  # every step it ran was within bound


def test_no_capacity_when_the_first_step_already_failed(tmp_path):
    capacity = ramp_run(tmp_path, slow_step=0)

    assert capacity["visitors_per_second"] is None and capacity["orders_per_second"] is None


def overload_run(tmp_path, ramp: dict | None, *, loadgen_cpu_per_second: float = 0.5) -> dict:
    phases = [
        {"name": "baseline", "start": 0, "end": 60},
        {"name": "rise", "start": 60, "end": 80},
        {"name": "hold", "start": 80, "end": 180},
        {"name": "tail", "start": 180, "end": 240},
    ]
    events = [event("buyer", at, outcome="order") for at in range(80, 180, 2)]  # 0.5 orders a second in the hold
    events += [event("buyer", 30, outcome="order")]  # before the hold: not counted
    events += [event("checkout", at, latency_ms=300.0 if at < 170 else 900.0) for at in range(80, 180)]
    run = {"scenario": "overload", "phases": phases, "hold_phase": "hold", "rate": 40, "last_wave_phase": "hold"}
    seconds = {
        s: {"requests": 10, "visitors_queued": 7, "loadgen_cpu_s": s * loadgen_cpu_per_second} for s in range(240)
    }
    record(tmp_path, run=run, events=events, seconds=seconds)
    return summarise(tmp_path, RESULT, ramp=ramp)


def test_the_overload_compares_orders_a_second_in_the_hold_with_the_ramps_plateau(tmp_path):
    figures = overload_run(tmp_path, ramp={"visitors_per_second": 20, "orders_per_second": 1.0})
    overload = figures["overload"]

    assert (overload["rate"], overload["orders_per_second_in_hold"]) == (40, 0.5)
    assert overload["orders_vs_ramp_plateau"] == 0.5
    assert overload["checkout_p95_in_hold_ms"] == 900.0
    assert figures["queue_at_end"] == 7


def test_without_a_ramp_the_overload_reports_no_ratio(tmp_path):
    assert overload_run(tmp_path, ramp=None)["overload"]["orders_vs_ramp_plateau"] is None


def test_an_overload_that_kept_locust_busy_is_flagged_its_latencies_include_locusts_own_lag(tmp_path):
    busy = overload_run(tmp_path / "busy", ramp=None, loadgen_cpu_per_second=0.95)["overload"]
    idle = overload_run(tmp_path / "idle", ramp=None, loadgen_cpu_per_second=0.5)["overload"]

    assert (busy["loadgen_cpu_share_in_hold"], busy["loadgen_saturated_in_hold"]) == (0.95, True)
    assert (idle["loadgen_cpu_share_in_hold"], idle["loadgen_saturated_in_hold"]) == (0.5, False)


def test_the_overload_holds_twice_stampedes_capacity_from_the_last_ramp_else_60(tmp_path):
    summary = tmp_path / "summary.json"
    assert default_overload_rate(ramp_capacity(summary)) == 60  # no ramp has run

    configurations = {"stampede": {"capacity": {"visitors_per_second": 24, "orders_per_second": 3.1}}, "2023": {}}
    summary.write_text(json.dumps({"scenario": "ramp", "configurations": configurations}))

    assert ramp_capacity(summary) == {"stampede": {"visitors_per_second": 24, "orders_per_second": 3.1}}
    assert default_overload_rate(ramp_capacity(summary)) == 48


def test_the_rooms_maximum_is_the_middle_of_the_bracket_the_last_ramp_put_stampedes_capacity_in_a_minute():
    steps = [{"visitors_per_second": rate, "within_bound": rate <= 32} for rate in (24, 32, 40)]
    bracketed = {"stampede": {"visitors_per_second": 32, "step_figures": steps}}
    never_past = {"stampede": {"visitors_per_second": 32, "step_figures": steps[:2]}}

    assert room_maximum(bracketed) == ("--max-users-per-minute", "2160")  # between 32 and 40 a second
    assert room_maximum(never_past) == ("--max-users-per-minute", "1920")
    assert room_maximum({}) == ()  # no ramp has run: no maximum


def test_the_headline_puts_each_configurations_capacity_side_by_side(tmp_path):
    stampede, old = ramp_run(tmp_path / "stampede", slow_step=2), ramp_run(tmp_path / "2023", slow_step=1)
    summary = {name: summarise(tmp_path / name, RESULT) for name in ("stampede", "2023")}

    line = headline("ramp", summary)

    assert (stampede["visitors_per_second"], old["visitors_per_second"]) == (8, 4)
    assert "stampede: capacity 8 visitors/s, 0.07 orders/s;" in line
    assert "| 2023: capacity 4 visitors/s, 0.07 orders/s;" in line


def test_the_headline_says_when_locust_was_too_busy_to_be_believed(tmp_path):
    busy = overload_run(tmp_path / "busy", ramp=None, loadgen_cpu_per_second=0.95)
    idle = overload_run(tmp_path / "idle", ramp=None)

    assert "Locust CPU 0.95 of a core, saturated: its latencies include its own lag" in headline(
        "overload", {"stampede": busy}
    )
    assert "saturated" not in headline("overload", {"stampede": idle})
