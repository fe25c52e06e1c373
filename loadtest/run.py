"""`make loadtest`: one scenario against Stampede, Stampede without its room, and the 2023 configuration, in one run.

    python -m loadtest.run --scenario influencer          # the full scenario, the three configurations
    python -m loadtest.run --scenario flash-sale --quick  # shortened
    python -m loadtest.run --scenario ramp                # each configuration's capacity (stampede, 2023)
    python -m loadtest.run --scenario overload --rate 40  # a spike held at 40 visitors/s (stampede)
    python -m loadtest.run --scenario baseline --against var/stack  # a running `make stack` (Stampede only)
    python -m loadtest.run --scenario influencer --target compose   # on docker compose stacks (Stampede only)
    python -m loadtest.run --scenario influencer --target compose --configurations stampede,stampede-scale-out
                                                          # the runbook rehearsed: 2 web replicas, 5 once paged

Each configuration gets a stack of its own (free ports, its own database), a live Prometheus, Locust
headless with the scenario's shape and the same visitors as the others (``--seed``), then the audit.
The stack is make stack's (supervisord) or, with ``--target compose``, docker-compose.yml's with its own
Prometheus, behind a load balancer on loopback so nginx sees each visitor's address (deploy/balancer.py).
Everything goes to var/loadtest/<scenario>/: report.html, summary.json, Locust's own report, each record.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

from deploy.compose import ComposeStack
from deploy.stack import ROOT, Stack
from loadtest import report
from loadtest.locust_process import LoadTestRun, run_locust
from loadtest.monitoring import Prometheus, RunningPrometheus
from loadtest.record import fresh
from loadtest.report_page import headline
from loadtest.scaleout import Plan, ScaleOut
from loadtest.seeds import VISITORS_SEED
from loadtest.shapes import SHAPES
from loadtest.stress import default_overload_rate, ramp_capacity, room_maximum

RESULTS = ROOT / "var" / "loadtest"
# A card processor that answers in half a second: in the 2023 configuration checkout waits for it.
GATEWAY = {"SHOP_FAKE_PAYMENT_OUTCOME": "delay", "SHOP_FAKE_PAYMENT_DELAY_SECONDS": "0.5"}
# The room as the runbook sets it: engaged past capacity, when checkout's p95 or the wait for a thread passes
# 250 ms (half the wait a customer notices), pacing newcomers to what the shop served (60 a minute at least),
# a place held 2 idle minutes; its maximum comes from the last ramp here (room_maximum), if one has run.
ROOM = tuple(
    "auto --min-users-per-minute 60 --target-latency-ms 250 --target-queue-ms 250 --session-duration 2".split()
)
OUTAGE_2023 = {"STACK_SETTINGS_MODULE": "config.settings.outage_2023", "STACK_MICROCACHE": "off", "STACK_WEB_NICE": "0"}
CONFIGURATIONS = {
    "stampede": {"web": 2, "checkout": 1, "env": {}, "room": ROOM},
    # Stampede with the room left off, to tell the room's part from the rest.
    "stampede-no-room": {"web": 2, "checkout": 1, "env": {}, "room": None},
    # The runbook rehearsed (compose): the room's stack, scaled to 5 web replicas when WaitingRoomEngaged fires.
    "stampede-scale-out": {"web": 2, "checkout": 1, "env": {}, "room": ROOM, "scale_out": Plan(web=5)},
    # One replica serving everything, at the same CPU priority as Stampede's checkout pool.
    "2023": {"web": 1, "checkout": 0, "env": OUTAGE_2023, "room": None},
}
DEFAULT_CONFIGURATIONS = "stampede,stampede-no-room,2023"
# The 2023 configuration is a settings module and an nginx without its microcache: make stack's only.
COMPOSE_CONFIGURATIONS = ("stampede", "stampede-no-room", "stampede-scale-out")
COMPOSE_DEFAULT = "stampede,stampede-no-room"  # the rehearsal asks for stampede-scale-out by name
COMPOSE_SCRAPE_SECONDS = 15  # deploy/prometheus/prometheus.yml, as compose ships it
# The ramp runs without the room (below), so there stampede-no-room would repeat stampede; the
# overload asks what the room makes of a spike it cannot serve.
SCENARIO_CONFIGURATIONS = {"ramp": "stampede,2023", "overload": "stampede"}
SALE_UNITS = {False: 100, True: 50}  # the flash sale's stock (full, quick)
AMPLE_STOCK = 100_000  # units nobody in a run can exhaust
# The ramp and the overload measure what the machine serves: a buyer told "sold out" costs far less
# than an order, so a catalog selling out would overstate it. There every product has ample stock.
CAPACITY_SCENARIOS = ("ramp", "overload")


def watching(target: Stack | ComposeStack, folder: Path) -> RunningPrometheus:
    """The live Prometheus of a run: compose's own, or one started beside make stack's replicas."""
    if isinstance(target, ComposeStack):
        return RunningPrometheus(target.prometheus_url, interval=COMPOSE_SCRAPE_SECONDS)
    pools = {"web": target.web_ports, "checkout": target.checkout_ports}
    targets = {
        "stampede-web": {pool: [f"127.0.0.1:{port}" for port in ports] for pool, ports in pools.items()},
        "stampede-worker": {"worker": [f"127.0.0.1:{target.worker_metrics_port}"]},
    }
    return Prometheus(folder / "prometheus", targets=targets)


def measure(
    target: Stack | ComposeStack, *, run: LoadTestRun, folder: Path, room: tuple | None, scale_out: Plan | None = None
) -> dict:
    """Run the scenario once against ``target``: Prometheus watching, Locust driving (the web pool scaled as
    ``scale_out`` plans, compose only), the audit after."""
    if room:
        target.manage("waitingroom", "reset")
        target.waitingroom(*room)
    featured_stock = SALE_UNITS[run.quick] if run.scenario == "flash-sale" else AMPLE_STOCK
    catalog_stock = AMPLE_STOCK if run.scenario in CAPACITY_SCENARIOS else 0
    stock = ("--featured-stock", str(featured_stock), "--catalog-stock", str(catalog_stock))
    prepared = target.audit("prepare", folder, *stock)
    with watching(target, folder) as prometheus:
        started = time.time()
        scaling = ScaleOut(target, scale_out, prometheus) if scale_out else None
        with scaling or contextlib.nullcontext():
            run_locust(target, run=run, folder=folder)
        checked = target.audit("check", folder, record=folder / "record")
        time.sleep(2 * prometheus.interval)  # two more evaluations: the last state of every alert is recorded
        ended = time.time()
        series = {name: prometheus.query_range(expr, started, ended) for name, expr in report.PROMETHEUS_SERIES.items()}
        monitoring = {
            "alerts": prometheus.alerts(started, ended),
            "rules": prometheus.rules(),
            "targets": prometheus.scrape_health(),
            "series": series,
        }
    result = {"prepared": prepared, "audit": checked, "monitoring": monitoring, "room": room}
    result["scale_out"] = scaling.record() if scaling else None
    (folder / "result.json").write_text(json.dumps(result, indent=2))
    return result


def run_own_stack(name: str, *, run: LoadTestRun, folder: Path, capacities: dict[str, dict], target: str) -> dict:
    configuration = CONFIGURATIONS[name]
    # The ramp measures what the shop itself serves: no room in front of it, whatever ROOM says.
    no_room = run.scenario == "ramp" or not configuration["room"]
    room = None if no_room else configuration["room"] + room_maximum(capacities)  # the runbook's maximum
    unique = f"loadtest-{name}_{os.getpid()}"  # two runs at once (a developer's and the suite's) never meet
    pools = {"web": configuration["web"], "checkout": configuration["checkout"]}
    settings = {**GATEWAY, **configuration["env"]}
    fresh(folder)
    if target == "compose":
        # WEB_CPUS, CHECKOUT_CPUS and the image variables come from this environment, as for make compose.
        stack = ComposeStack.isolated(unique, **pools, settings=settings, balanced=True)
    else:
        stack = Stack.isolated(unique, **pools, env=settings, run_dir=folder / "stack")
    with stack:
        return measure(stack, run=run, folder=folder, room=room, scale_out=configuration.get("scale_out"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, choices=list(SHAPES))
    parser.add_argument("--quick", action="store_true", help="the shortened scenario")
    parser.add_argument("--against", type=Path, help="the run folder of a running `make stack` (e.g. var/stack)")
    defaults = "; ".join(f"{scenario}: {names}" for scenario, names in SCENARIO_CONFIGURATIONS.items())
    known = f"comma-separated, of: {', '.join(CONFIGURATIONS)} (default {DEFAULT_CONFIGURATIONS}; {defaults})"
    parser.add_argument("--configurations", help=known)
    parser.add_argument(
        "--rate",
        type=float,
        help="overload: the visitors a second held (default twice Stampede's capacity from the last ramp, else 60)",
    )
    parser.add_argument("--seed", type=int, default=VISITORS_SEED, help="the visitors' seed, for every configuration")
    parser.add_argument(
        "--target",
        choices=("stack", "compose"),
        default="stack",
        help="make stack's topology (supervisord) or docker compose's (default stack)",
    )
    parser.add_argument("--out", type=Path, help="the results folder (default var/loadtest/<scenario>)")
    args = parser.parse_args()
    if args.rate is not None and args.scenario != "overload":
        parser.error("--rate is the overload scenario's")
    out = args.out or RESULTS / args.scenario
    capacities = ramp_capacity(RESULTS / "ramp" / "summary.json") if args.scenario != "ramp" else {}
    rate = default_overload_rate(capacities) if args.scenario == "overload" and args.rate is None else args.rate
    run = LoadTestRun(args.scenario, quick=args.quick, seed=args.seed, rate=rate)
    names = (args.configurations or SCENARIO_CONFIGURATIONS.get(args.scenario, DEFAULT_CONFIGURATIONS)).split(",")
    if args.target == "compose":
        if args.against:
            parser.error("--against is a running make stack's; compose stacks are the run's own")
        if not args.configurations:
            names = [name for name in names if name in COMPOSE_DEFAULT.split(",")]
        elif unknown := set(names) - set(COMPOSE_CONFIGURATIONS):
            parser.error(
                f"make stack's only: {', '.join(sorted(unknown))} (on compose: {', '.join(COMPOSE_CONFIGURATIONS)})"
            )
    plans = {name: CONFIGURATIONS.get(name, {}).get("scale_out") for name in names}
    if args.target != "compose" and (scaling := [name for name, plan in plans.items() if plan]):
        parser.error(
            f"{', '.join(scaling)}: compose scales a pool during a run, make stack does not (--target compose)"
        )
    if args.against:  # a running `make stack`: Stampede only
        results = {"stampede": measure(Stack.running(args.against), run=run, folder=fresh(out / "stampede"), room=None)}
    else:
        results = {
            name: run_own_stack(name, run=run, folder=out / name, capacities=capacities, target=args.target)
            for name in names
        }
    summary = report.publish(out, run, results, ramp_capacity=capacities if args.scenario == "overload" else {})
    print(headline(args.scenario, summary))


if __name__ == "__main__":
    main()
