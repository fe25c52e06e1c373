"""`make loadtest`: one scenario against Stampede, Stampede without its room, and the 2023 configuration, in one run.

    python -m loadtest.run --scenario influencer          # the full scenario, the three configurations
    python -m loadtest.run --scenario flash-sale --quick  # shortened
    python -m loadtest.run --scenario ramp                # each configuration's capacity (stampede, 2023)
    python -m loadtest.run --scenario overload --rate 40  # a spike held at 40 visitors/s (stampede)
    python -m loadtest.run --scenario baseline --against var/stack  # a running `make stack` (Stampede only)

For each configuration: a stack of its own (free ports, its own database, stopped with its supervisord
at the end), a live Prometheus beside it, Locust headless with the scenario's shape, and
the audit. Every configuration meets the same visitors (``--seed``). Everything goes to
var/loadtest/<scenario>/: report.html, summary.json, Locust's own report, and each
configuration's raw record.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from deploy.stack import ROOT, Stack
from loadtest import report
from loadtest.capacity import default_overload_rate, ramp_capacity, room_maximum
from loadtest.headline import headline
from loadtest.locust_process import LoadTestRun, run_locust
from loadtest.monitoring import INTERVAL_SECONDS, Prometheus
from loadtest.record import fresh
from loadtest.seeds import VISITORS_SEED
from loadtest.shapes import SHAPES

RESULTS = ROOT / "var" / "loadtest"
# A card processor that answers in half a second: in the 2023 configuration checkout waits for it.
GATEWAY = {"SHOP_FAKE_PAYMENT_OUTCOME": "delay", "SHOP_FAKE_PAYMENT_DELAY_SECONDS": "0.5"}
# The room as the runbook tells an operator to set it: auto mode (the model's defaults), engaged
# only past capacity, when placing an order takes over 250 ms (p95: half the wait a customer
# notices, for visitors let in meanwhile) or requests wait as long for a thread; then it paces
# new visitors to what the shop was serving, never under 60 a minute. A place is held for 2 idle
# minutes. Its maximum comes from the capacity the last ramp on this machine measured, as the
# runbook says (room_maximum); with no ramp run yet there is none, and the room waits for the signals.
ROOM = (
    "auto",
    "--min-users-per-minute",
    "60",
    "--target-latency-ms",
    "250",
    "--target-queue-ms",
    "250",
    "--session-duration",
    "2",
)
CONFIGURATIONS = {
    "stampede": {"web": 2, "checkout": 1, "env": {}, "room": ROOM},
    # Stampede with the room left off, to tell the room's part from the rest.
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
DEFAULT_CONFIGURATIONS = "stampede,stampede-no-room,2023"
# The ramp runs without the room (below), so there stampede-no-room would repeat stampede; the
# overload asks what the room makes of a spike it cannot serve.
SCENARIO_CONFIGURATIONS = {"ramp": "stampede,2023", "overload": "stampede"}
SALE_UNITS = {False: 100, True: 50}  # the flash sale's stock (full, quick)
AMPLE_STOCK = 100_000  # units nobody in a run can exhaust
# The ramp and the overload measure what the machine serves: a buyer told "sold out" costs the
# shop far less than an order, so a catalog selling out would overstate it (README, "Measured
# here"). Every product has ample stock there; the influencer keeps the seeded stock.
CAPACITY_SCENARIOS = ("ramp", "overload")


def measure(target: Stack, *, run: LoadTestRun, folder: Path, room: tuple | None) -> dict:
    """Run the scenario once against ``target``: Prometheus watching, Locust driving, the audit after."""
    if room:
        target.manage("waitingroom", "reset")
        target.waitingroom(*room)
    featured_stock = SALE_UNITS[run.quick] if run.scenario == "flash-sale" else AMPLE_STOCK
    catalog_stock = AMPLE_STOCK if run.scenario in CAPACITY_SCENARIOS else 0
    prepared = json.loads(
        target.python(
            *("-m", "loadtest.audit", "prepare", "--folder", str(folder)),
            *("--featured-stock", str(featured_stock), "--catalog-stock", str(catalog_stock)),
        )
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
        run_locust(target, run=run, folder=folder)
        audit = json.loads(
            target.python("-m", "loadtest.audit", "check", "--folder", str(folder), "--record", str(folder / "record"))
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


def run_own_stack(name: str, *, run: LoadTestRun, folder: Path, room_bound: tuple[str, ...] = ()) -> dict:
    configuration = CONFIGURATIONS[name]
    env = {**GATEWAY, **configuration["env"]}
    # The ramp measures what the shop itself serves: no room in front of it, whatever ROOM says.
    room = None if run.scenario == "ramp" or not configuration["room"] else configuration["room"] + room_bound
    run_id = f"{name}_{os.getpid()}"  # two runs at once (a developer's and the suite's) never meet
    with Stack.isolated(
        f"loadtest-{run_id}",
        web=configuration["web"],
        checkout=configuration["checkout"],
        env=env,
        run_dir=fresh(folder) / "stack",
    ) as stack:
        return measure(stack, run=run, folder=folder, room=room)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, choices=list(SHAPES))
    parser.add_argument("--quick", action="store_true", help="the shortened scenario")
    parser.add_argument("--against", type=Path, help="the run folder of a running `make stack` (e.g. var/stack)")
    parser.add_argument(
        "--configurations",
        help=f"comma-separated, of: {', '.join(CONFIGURATIONS)} (default {DEFAULT_CONFIGURATIONS};"
        + "".join(f"; {scenario}: {names}" for scenario, names in SCENARIO_CONFIGURATIONS.items())
        + ")",
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="overload: the visitors a second held (default twice Stampede's capacity from the last ramp, else 60)",
    )
    parser.add_argument(
        "--seed", type=int, default=VISITORS_SEED, help="the visitors' seed, shared by every configuration"
    )
    parser.add_argument("--out", type=Path, help="the results folder (default var/loadtest/<scenario>)")
    args = parser.parse_args()
    if args.rate is not None and args.scenario != "overload":
        parser.error("--rate is the overload scenario's")
    out = args.out or RESULTS / args.scenario
    capacities = ramp_capacity(RESULTS / "ramp" / "summary.json") if args.scenario != "ramp" else {}
    rate = args.rate
    if args.scenario == "overload" and rate is None:
        rate = default_overload_rate(capacities)
    run = LoadTestRun(args.scenario, quick=args.quick, seed=args.seed, rate=rate)
    configurations = args.configurations or SCENARIO_CONFIGURATIONS.get(args.scenario, DEFAULT_CONFIGURATIONS)
    results = {}
    if args.against:
        folder = fresh(out / "stampede")
        results["stampede"] = measure(Stack.running(args.against), run=run, folder=folder, room=None)
    else:
        for name in configurations.split(","):
            results[name] = run_own_stack(name, run=run, folder=out / name, room_bound=room_maximum(capacities))
    summary = report.publish(
        out,
        scenario=args.scenario,
        quick=args.quick,
        results=results,
        seed=args.seed,
        rate=rate,
        ramp_capacity=capacities if args.scenario == "overload" else {},
    )
    print(headline(args.scenario, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
