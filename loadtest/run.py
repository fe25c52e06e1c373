"""`make loadtest`: one scenario against Stampede and against the 2023 configuration, in one sitting.

    python -m loadtest.run --scenario influencer          # the full scenario, both configurations
    python -m loadtest.run --scenario flash-sale --quick  # shortened: under 10 minutes here
    python -m loadtest.run --scenario baseline --against var/stack  # a running `make stack` (Stampede only)

For each configuration: a stack of its own (free ports, its own database, stopped with its supervisord
at the end), a live Prometheus beside it, Locust headless with the scenario's shape, and
the audit. Everything goes to var/loadtest/<scenario>/: report.html, summary.json,
Locust's own report, and each configuration's raw record.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from loadtest import report
from loadtest.monitoring import INTERVAL_SECONDS, Prometheus
from loadtest.shapes import shape_for
from loadtest.stacks import ROOT, OwnStack, Target, fresh

RESULTS = ROOT / "var" / "loadtest"
# A card processor that answers in half a second: in the 2023 configuration checkout waits for it.
GATEWAY = {"SHOP_FAKE_PAYMENT_OUTCOME": "delay", "SHOP_FAKE_PAYMENT_DELAY_SECONDS": "0.5"}
# The room as the runbook tells an operator to set it: auto mode (the model's defaults), engaged
# only past capacity, when placing an order takes over 500 ms (p95: a wait a customer notices)
# or requests wait as long for a thread; then it paces new visitors to what the shop was
# serving, never under 60 a minute. A place is held for 2 idle minutes. No ceiling to guess.
ROOM = (
    "auto",
    "--min-users-per-minute",
    "60",
    "--target-latency-ms",
    "500",
    "--target-queue-ms",
    "500",
    "--session-duration",
    "2",
)
CONFIGURATIONS = {
    "stampede": {"web": 2, "checkout": 1, "env": {}, "room": ROOM},
    # Not run by default: Stampede with the room left off, to tell the room's part from the rest.
    "stampede-no-room": {"web": 2, "checkout": 1, "env": {}, "room": None},
    # One replica serving everything, at the same CPU priority as Stampede's checkout pool.
    "2023": {
        "web": 1,
        "checkout": 0,
        "room": None,
        "env": {
            "STACK_SETTINGS_MODULE": "config.settings.outage_2023",
            "STACK_MICROCACHE": "off",
            "STACK_WEB_NICE": "0",
        },
    },
}
SALE_UNITS = {False: 100, True: 50}  # the flash sale's stock (full, quick)


def measure(target: Target, *, scenario: str, quick: bool, folder: Path, room: tuple | None) -> dict:
    """Run the scenario once against ``target``: Prometheus watching, Locust driving, the audit after."""
    if room:
        target.run("manage.py", "waitingroom", "reset")
        target.run("manage.py", "waitingroom", *room)
        time.sleep(3)  # every replica re-reads the room's configuration within 2 s
    featured_stock = SALE_UNITS[quick] if scenario == "flash-sale" else 100_000
    prepared = json.loads(
        target.run("-m", "loadtest.audit", "prepare", "--folder", str(folder), "--featured-stock", str(featured_stock))
    )
    targets = {
        "stampede-web": {
            pool: [f"127.0.0.1:{port}" for port in ports]
            for pool, ports in (("web", target.web_ports), ("checkout", target.checkout_ports))
        },
        "stampede-worker": {"worker": [f"127.0.0.1:{target.worker_metrics_port}"]},
    }
    with Prometheus(folder / "prometheus", targets=targets) as prometheus:
        started = time.time()
        locust(target, scenario=scenario, quick=quick, folder=folder)
        audit = json.loads(
            target.run("-m", "loadtest.audit", "check", "--folder", str(folder), "--record", str(folder / "record"))
        )
        time.sleep(2 * INTERVAL_SECONDS)  # two more evaluations: the last state of every alert is recorded
        ended = time.time()
        monitoring = {
            "alerts": prometheus.alerts(started, ended),
            "rules": prometheus.rules(),
            "targets": prometheus.scrape_health(),
            "series": {
                name: prometheus.query_range(expr, started, ended) for name, expr in report.PROMETHEUS_SERIES.items()
            },
        }
    result = {"prepared": prepared, "audit": audit, "monitoring": monitoring, "room": room}
    (folder / "result.json").write_text(json.dumps(result, indent=2))
    return result


def locust(target: Target, *, scenario: str, quick: bool, folder: Path) -> None:
    """Locust headless, one process (this machine has two cores and the shop needs them), bounded in time."""
    settings = target.settings()
    caches = {
        "prefix": settings.get("CACHE_KEY_PREFIX", "stampede"),
        "cache_url": settings["REDIS_URL"],
        "nginx_cache_dir": target.nginx_cache_dir,
    }
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOADTEST_SCENARIO": scenario,
        "LOADTEST_QUICK": "1" if quick else "",
        "LOADTEST_RECORD": str(folder / "record"),
        "LOADTEST_CATALOG": str(folder / "catalog.json"),
        "LOADTEST_CACHES": json.dumps(caches),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    duration = shape_for(scenario, quick=quick)().duration
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "--host",
        target.url,
        "--csv",
        str(folder / "locust"),
        "--html",
        str(folder / "locust.html"),
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
        "--logfile",
        str(folder / "locust.log"),
        "--only-summary",
    ]
    with (folder / "locust-console.log").open("wb") as console:
        subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            check=True,
            timeout=duration + 300,
            preexec_fn=_more_open_files,
            stdout=console,
            stderr=subprocess.STDOUT,
        )


def _more_open_files() -> None:
    # Thousands of visitors at once, each with its own connection.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run_own_stack(name: str, *, scenario: str, quick: bool, folder: Path) -> dict:
    configuration = CONFIGURATIONS[name]
    env = {**GATEWAY, **configuration["env"]}
    run_id = f"{name}_{os.getpid()}"  # two sittings at once (a developer's and the suite's) never meet
    with OwnStack(
        name=f"loadtest-{run_id}",
        web=configuration["web"],
        checkout=configuration["checkout"],
        database=f"stampede_loadtest_{run_id}",
        env=env,
        run_dir=fresh(folder) / "stack",
    ) as stack:
        target = Target.read(stack.run_dir)
        return measure(target, scenario=scenario, quick=quick, folder=folder, room=configuration["room"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", required=True, choices=["baseline", "influencer", "flash-sale", "cold-start", "smoke"]
    )
    parser.add_argument("--quick", action="store_true", help="the shortened scenario")
    parser.add_argument("--against", type=Path, help="the run folder of a running `make stack` (e.g. var/stack)")
    parser.add_argument(
        "--configurations", default="stampede,2023", help=f"comma-separated, of: {', '.join(CONFIGURATIONS)}"
    )
    parser.add_argument("--out", type=Path, help="the results folder (default var/loadtest/<scenario>)")
    args = parser.parse_args()
    out = args.out or RESULTS / args.scenario
    results = {}
    if args.against:
        folder = fresh(out / "stampede")
        results["stampede"] = measure(
            Target.read(args.against), scenario=args.scenario, quick=args.quick, folder=folder, room=None
        )
    else:
        for name in args.configurations.split(","):
            results[name] = run_own_stack(name, scenario=args.scenario, quick=args.quick, folder=out / name)
    summary = report.publish(out, scenario=args.scenario, quick=args.quick, results=results)
    print(report.headline(args.scenario, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
