"""A live Prometheus beside the stack under test: the project's own scrape jobs and alert rules.

Debian's prometheus package, on loopback, its data in the run's folder. The jobs are those of
deploy/prometheus/prometheus.yml with the replicas and the worker listed (no compose DNS here) and
no cAdvisor (no containers); every 5 s instead of 15 s, so a ten-minute run has enough points.
A compose stack brings its own (every 15 s, as it ships), read the same way (RunningPrometheus).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from deploy.readiness import answers, stop_process, wait_until
from deploy.stack import ROOT, free_port

PROJECT_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
INTERVAL_SECONDS = 5


class RunningPrometheus:
    """A Prometheus already running (compose's own), read through its HTTP API; it evaluates every ``interval`` s."""

    def __init__(self, url: str, *, interval: float) -> None:
        self.url, self.interval = url, interval

    def __enter__(self) -> RunningPrometheus:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def api(self, path: str, *, timeout: float = 10, **params: object) -> Any:
        """The data of Prometheus's answer to ``/api/v1/<path>?<params>``."""
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=timeout) as response:
            return json.load(response)["data"]

    def query_range(self, expr: str, start: float, end: float) -> dict[str, list[tuple[float, float]]]:
        """Each series of ``expr`` over the run, by its labels, one point per evaluation."""
        result = self.api("query_range", timeout=30, query=expr, start=start, end=end, step=self.interval)["result"]
        return {
            json.dumps(series["metric"], sort_keys=True): [(float(t), float(v)) for t, v in series["values"]]
            for series in result
        }

    def alerts(self, start: float, end: float) -> list[dict]:
        """Every alert that fired between ``start`` and ``end``: when it fired and resolved (None: firing at the end)."""
        gap, fired = 2 * self.interval, []
        for labels, points in self.query_range('ALERTS{alertstate="firing"}', start, end).items():
            times = [t for t, _ in points]
            # Points more than two evaluations apart belong to two firings.
            breaks = [i for i in range(1, len(times)) if times[i] - times[i - 1] > gap]
            for first, stop in zip([0, *breaks], [*breaks, len(times)], strict=True):
                last = times[stop - 1]
                still_firing = stop == len(times) and end - last <= gap
                resolved_at = None if still_firing else last + self.interval
                fired.append(
                    {"alert": json.loads(labels)["alertname"], "fired_at": times[first], "resolved_at": resolved_at}
                )
        return sorted(fired, key=lambda alert: alert["fired_at"])

    def firing(self, alert: str) -> bool:
        """Whether ``alert`` fires now (Prometheus's ALERTS series; False while Prometheus does not answer)."""
        try:
            return bool(self.api("query", query=f'ALERTS{{alertname="{alert}",alertstate="firing"}}')["result"])
        except OSError:
            return False

    def scrape_health(self) -> list[dict]:
        """Every scrape target, with its job and whether its last scrape worked."""
        active = self.api("targets")["activeTargets"]
        return [{"job": t["labels"]["job"], "instance": t["labels"]["instance"], "health": t["health"]} for t in active]

    def rules(self) -> dict[str, str]:
        """Each alert rule's `for:` duration, as Prometheus loaded it."""
        groups = self.api("rules")["groups"]
        return {
            rule["name"]: rule.get("duration", 0)
            for group in groups
            for rule in group["rules"]
            if rule["type"] == "alerting"
        }


class Prometheus(RunningPrometheus):
    """One of our own, started for the run and stopped after it."""

    def __init__(self, folder: Path, *, targets: dict[str, dict[str, list[str]]]) -> None:
        """``targets``: for each scrape job, its addresses by pool (a label, as compose's DNS names give)."""
        self.folder = folder
        self.port = free_port()
        super().__init__(f"http://127.0.0.1:{self.port}", interval=INTERVAL_SECONDS)
        self.targets = {**targets, "prometheus": {"prometheus": [f"127.0.0.1:{self.port}"]}}
        self.process: subprocess.Popen | None = None

    def config(self) -> dict:
        """The project's Prometheus configuration, pointed at this machine's stack."""
        project = yaml.safe_load(PROJECT_CONFIG.read_text())
        interval = f"{INTERVAL_SECONDS}s"
        jobs = []
        for job in project["scrape_configs"]:
            if job["job_name"] not in self.targets:
                continue
            listed = {
                key: value for key, value in job.items() if not key.endswith("_sd_configs") and key != "relabel_configs"
            }
            groups = [
                {"targets": addresses, "labels": {"pool": pool}}
                for pool, addresses in self.targets[job["job_name"]].items()
                if addresses
            ]
            jobs.append({**listed, "static_configs": groups})
        return {
            "global": {**project["global"], "scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(PROJECT_CONFIG.parent / name) for name in project["rule_files"]],
            "scrape_configs": jobs,
        }

    def __enter__(self) -> Prometheus:
        executable = shutil.which("prometheus")
        if executable is None:
            raise SystemExit("prometheus is not installed: `make system-packages` installs it")
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        command = [executable, f"--config.file={config}", f"--storage.tsdb.path={self.folder / 'data'}"]
        command += [f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        log = self.folder / "prometheus.log"
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        if wait_until(lambda: answers(f"{self.url}/-/ready"), timeout=60, interval=0.5):
            return self
        self.__exit__()
        raise RuntimeError(f"Prometheus did not start; see {log}")

    def __exit__(self, *exc) -> None:
        stop_process(self.process, timeout=30)
