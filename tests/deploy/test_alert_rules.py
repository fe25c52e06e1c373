"""The alert rules: valid, unit-tested with promtool, and each one linked to its runbook section."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts.test.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real promtool; fail, never skip, where it is missing."""
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail("promtool not found: `make system-packages` installs Debian's prometheus package")
    return subprocess.run([executable, *args], capture_output=True, text=True, timeout=120)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    command = " ".join(result.args)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}{result.stderr}"


def alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def runbook_anchors() -> set[str]:
    """Return the anchors GitHub renders for each heading of the runbook."""
    anchors, in_code = set(), False
    for line in RUNBOOK.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (heading := re.match(r"#{1,6}\s+(.+)", line)):
            anchors.add(re.sub(r"[^\w\- ]", "", heading[1].strip().lower()).replace(" ", "-"))
    return anchors


def rule_test_cases(alertname: str) -> list[dict]:
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    return [case for case in cases if case["alertname"] == alertname]


def test_alert_rules_are_valid() -> None:
    assert_ok(promtool("check", "rules", str(RULES)))


def test_alert_rule_unit_tests_pass() -> None:
    assert_ok(promtool("test", "rules", str(RULE_TESTS)))


def test_scrape_config_is_valid(tmp_path: Path) -> None:
    shutil.copy(PROMETHEUS_DIR / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(RULES, tmp_path / "alerts.yml")
    assert_ok(promtool("check", "config", str(tmp_path / "prometheus.yml")))


def test_alerts_watch_the_jobs_prometheus_scrapes() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    watched = {job for rule in alerts() for job in re.findall(r'job="([^"]+)"', rule["expr"])}
    assert watched <= jobs


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_alert_has_severity_summary_description_and_runbook(rule: dict) -> None:
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert {"summary", "description", "runbook_url"} <= rule["annotations"].keys()
    path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
    assert path == "docs/runbook.md"
    assert anchor in runbook_anchors(), f"docs/runbook.md has no heading for #{anchor}"


def test_runbook_links_within_itself_resolve() -> None:
    links = set(re.findall(r"\]\(#([^)]+)\)", RUNBOOK.read_text()))
    assert links - runbook_anchors() == set()


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_alert_has_a_firing_and_a_silent_test_case(rule: dict) -> None:
    cases = rule_test_cases(rule["alert"])
    assert any(case.get("exp_alerts") for case in cases), f"no test case in alerts.test.yml where {rule['alert']} fires"
    assert any(not case.get("exp_alerts") for case in cases), f"no test case where {rule['alert']} stays silent"
