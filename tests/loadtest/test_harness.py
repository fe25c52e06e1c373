"""`make loadtest`, smoke-sized, end to end: the three configurations, Prometheus, the audit, the report.

CI runs this so the harness keeps working; the real scenarios are run by hand (`make loadtest`).
It asserts what the harness did, never how fast the shop was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
# The fields every configuration's summary carries: what the report and its readers rely on.
SUMMARY_FIELDS = {
    "visitors",
    "peak_rps",
    "checkout_attempts",
    "checkout_success",
    "checkout_p50_ms",
    "checkout_p95_ms",
    "checkout_p99_ms",
    "http_5xx",
    "orders_lost",
    "oversold",
    "duplicate_charges",
    "duplicate_emails",
    "alerts_fired",
    "waitingroom_eta_error",
    # Orders against buying demand, and who was left in line.
    "buying_demand",
    "orders_placed",
    "buyers_sold_out",
    "goodput",
    "arrival_to_product_p50_s",
    "arrival_to_product_p95_s",
    "queue_at_end",
    "queued_60s_after_last_wave",
    "waitingroom_left_the_line",
    "goodput_by_phase",
    "loadgen_cpu_seconds",
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("loadtest")
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "loadtest.run", "--scenario", "smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {
        "out": out,
        "last_line": done.stdout.strip().splitlines()[-1],
        "summary": json.loads((out / "summary.json").read_text())["configurations"],
        "results": {
            name: json.loads((out / name / "result.json").read_text())
            for name in ("stampede", "stampede-no-room", "2023")
        },
    }


def test_every_configuration_reports_every_summary_field(smoke):
    assert set(smoke["summary"]) == {"stampede", "stampede-no-room", "2023"}
    for figures in smoke["summary"].values():
        assert SUMMARY_FIELDS <= set(figures)
        assert figures["visitors"] > 10


def test_every_configuration_meets_the_same_buyers(smoke):
    demand = {name: figures["buying_demand"] for name, figures in smoke["summary"].items()}

    assert len(set(demand.values())) == 1 and demand["stampede"] >= 1, demand


def test_every_order_a_buyer_saw_is_in_the_database_settled_charged_and_emailed_once(smoke):
    for name, figures in smoke["summary"].items():
        audit = figures["audit"]
        assert figures["checkout_attempts"] >= 1, name
        assert audit["orders_shown_to_buyers"] >= 1, name
        assert audit["orders_by_status"] == {"confirmed": audit["orders"]}, name
        assert [
            audit[key]
            for key in (
                "orders_lost",
                "orders_unsettled",
                "duplicate_charges",
                "duplicate_emails",
                "confirmed_without_charge",
                "confirmed_without_email",
                "oversold",
            )
        ] == [0] * 7
        assert audit["stock_not_conserved"] == [], name


def test_stampede_hands_orders_to_the_worker_and_2023_charges_inside_the_request(smoke):
    def worker_processed_orders(name: str) -> bool:
        log = (smoke["out"] / name / "stack" / "logs" / "worker.log").read_text()
        return "shop.tasks.process_order" in log and "succeeded" in log

    assert worker_processed_orders("stampede")
    assert not worker_processed_orders("2023")


def test_prometheus_scraped_every_replica_and_the_worker_and_loaded_the_alert_rules(smoke):
    for name, replicas in (("stampede", 3), ("stampede-no-room", 3), ("2023", 1)):  # Stampede: 2 browsing, 1 checkout
        monitoring = smoke["results"][name]["monitoring"]
        healthy = [target["job"] for target in monitoring["targets"] if target["health"] == "up"]
        assert healthy.count("stampede-web") == replicas and healthy.count("stampede-worker") == 1, monitoring[
            "targets"
        ]
        assert {"TrafficSpike", "WaitingRoomEngaged", "CheckoutLatencyP99"} <= set(monitoring["rules"])


def test_the_report_draws_its_charts_and_the_headline_comes_last(smoke):
    page = (smoke["out"] / "report.html").read_text()

    assert page.count("<svg") == 5
    assert smoke["last_line"].startswith("loadtest smoke: stampede: orders ")
    assert (smoke["out"] / "stampede" / "locust.html").exists()
