"""The record Locust writes: events as they happen, and the checkouts the ramp judges its steps by."""

from __future__ import annotations

from loadtest.record import Recorder, read_events


def test_an_event_may_carry_a_field_named_kind_and_every_checkout_is_kept_for_the_ramp(tmp_path):
    recorder = Recorder(tmp_path)

    recorder.event("arrival", visitor="127.1.0.1", phase="spike", kind="Buyer")
    recorder.event("checkout", visitor="127.1.0.1", phase="spike", latency_ms=120.0)
    recorder.close(scenario="test")

    assert [(e["type"], e.get("kind")) for e in read_events(tmp_path)] == [("arrival", "Buyer"), ("checkout", None)]
    assert [latency for _, latency in recorder.checkouts] == [120.0]


def test_each_seconds_sample_holds_the_visitors_waiting_and_locusts_cpu_so_far(tmp_path):
    recorder = Recorder(tmp_path)
    recorder.visitors_queued = 3

    recorder.sample_visitors()

    (counts,) = recorder.seconds.values()
    assert counts["visitors_queued"] == 3 and counts["loadgen_cpu_s"] > 0
