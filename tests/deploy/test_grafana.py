"""The provisioned Grafana dashboard: every panel charts a metric the stack exports, from our datasource."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.test_alert_rules import assert_ok, promtool

GRAFANA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "stampede.json"
RATE_INTERVAL = "$__rate_interval"  # Grafana fills it in; promtool needs a real duration

# What the app, the worker and cAdvisor export; a typo in a panel would chart nothing.
EXPORTED_METRICS = {
    "django_http_requests_total_by_method_total",
    "django_http_responses_total_by_status_total",
    "django_http_requests_latency_seconds_by_view_method_bucket",
    "stampede_orders_created_total",
    "stampede_orders_processed_total",
    "stampede_checkout_latency_seconds_bucket",
    "stampede_celery_queue_depth",
    "stampede_waitingroom_queue_length",
    "stampede_waitingroom_active_users",
    "stampede_waitingroom_active_limit",
    "stampede_waitingroom_admissions_per_minute",
    "stampede_waitingroom_estimated_wait_seconds",
    "stampede_waitingroom_engaged",
    "stampede_waitingroom_store_errors_total",
    "stampede_waitingroom_adaptive_engaged",
    "stampede_waitingroom_pace_per_minute",
    "stampede_waitingroom_pace_floor_per_minute",
    "stampede_waitingroom_adaptive_measured_seconds",
    "stampede_waitingroom_adaptive_target_seconds",
    "up",
    "container_cpu_usage_seconds_total",
    "container_spec_cpu_quota",
    "container_spec_cpu_period",
    "container_memory_working_set_bytes",
    "container_spec_memory_limit_bytes",
}


def panels() -> list[dict]:
    found = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        found.extend(panel.get("panels", []) if panel["type"] == "row" else [panel])
    return found


def test_dashboard_is_current_json_with_unique_panel_ids() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39
    ids = [panel["id"] for panel in panels()]
    assert len(ids) == len(set(ids))


def test_datasource_is_provisioned_with_the_uid_the_dashboard_uses() -> None:
    (datasource,) = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert (datasource["uid"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    (provider,) = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "dashboards.yml").read_text())[
        "providers"
    ]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


@pytest.mark.parametrize("panel", panels(), ids=lambda panel: panel["title"])
def test_panel_charts_an_exported_metric_from_prometheus(panel: dict) -> None:
    assert panel["datasource"]["uid"] == "prometheus"
    assert all(target["datasource"]["uid"] == "prometheus" for target in panel["targets"])
    names = {name for target in panel["targets"] for name in re.findall(r"[a-zA-Z_:][\w:]*", target["expr"])}
    assert names & EXPORTED_METRICS, f"no exported metric in {panel['title']!r}"


def test_panel_queries_are_valid_promql(tmp_path: Path) -> None:
    # promtool has no offline query checker; recording rules get the same parser.
    rules = []
    for panel in panels():
        for target in panel["targets"]:
            expr = target["expr"].replace(RATE_INTERVAL, "1m")
            rules.append({"record": f"grafana:panel_{panel['id']}_{target['refId']}", "expr": expr})
    rules_file = tmp_path / "panels.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": rules}]}))
    assert_ok(promtool("check", "rules", str(rules_file)))
