"""`make bench`: requests per second and p99, measured with wrk in one run.

"app": wrk straight at one gunicorn replica, the shop's catalog against two reference views
served by the same process (loadtest/bench_urls.py). "nginx": the catalog through nginx with 1
and 3 replicas, microcached or not, against nginx serving the same page as a static file (the
ceiling). wrk shares the cores with the server: compare the ratios, not the absolute numbers.
``--target compose`` measures the nginx table on docker-compose.yml's stack (deploy/compose.py);
its replicas publish no port, so the app table is make stack's only. It adds the scale-out table:
served new-term searches a second at 1, 2 and 3 web replicas, orders a second at 1 and 2 checkout
replicas, each replica capped at WEB_CPUS / CHECKOUT_CPUS (a small host of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from deploy.compose import ComposeStack
from deploy.stack import ROOT, Stack
from loadtest.customer import Customer
from loadtest.pages import PRODUCT_LINK
from loadtest.record import Recorder, fresh
from loadtest.shoppers import Shoppers

RESULTS = ROOT / "var" / "bench"
# Each request an influencer's link of its own: utm_* tags and a new fbclid every time.
TAGGED_LINKS = Path(__file__).with_name("tagged_links.lua")
# A session cookie makes nginx bypass its microcache: the request reaches Django.
UNCACHED = {"Cookie": "sessionid=bench-no-such-session"}
# Each request a search for a term never searched before: no cache can hold it.
NEW_TERMS = Path(__file__).with_name("new_terms.lua")
# Connections per web replica in the scale-out table: under nginx's max_conns (10 in compose), so
# nginx turns nobody away and each replica's served rate is measured, not its busy page's.
CONNECTIONS_PER_REPLICA = 8
SAMPLE_EVERY_SECONDS = 2  # between docker stats samples in the scale-out table


@dataclass
class Result:
    name: str
    requests_per_second: float
    p99_ms: float
    non_2xx: int
    requests: int = 0

    @property
    def served_per_second(self) -> float:
        """Requests a second answered 2xx or 3xx (nginx's busy page is not a page served)."""
        return self.requests_per_second * (1 - self.non_2xx / self.requests) if self.requests else 0.0

    def row(self, count: str, first: Result) -> list[str]:
        """Its table row: ``count`` (of non-2xx answers, of connections...) fourth, the ratio to ``first`` last."""
        rate = self.requests_per_second
        return [self.name, f"{rate:,.0f}", f"{self.p99_ms:.1f} ms", count, f"{rate / first.requests_per_second:.3f}"]


def wrk(
    name: str,
    url: str,
    seconds: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    connections: int = 64,
) -> Result:
    """Run wrk -t2 -c64 (the machine's anchors use the same; ``connections`` otherwise) and parse its summary."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    command += [option for header, value in (headers or {}).items() for option in ("-H", f"{header}: {value}")]
    if script is not None:
        command += ["-s", str(script)]
    # The tagged-links script asks for the page of the URL's path.
    env = {**os.environ, "WRK_PATH": urllib.parse.urlsplit(url).path}
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return Result(name, rps, float(p99.group(1)) * scale, int(non_2xx.group(1)) if non_2xx else 0, requests)


def interleaved_medians(urls: dict[str, str], *, seconds: int, rounds: int) -> list[Result]:
    """wrk ``urls`` (name: URL) in interleaved rounds, so the machine's noise hits each alike; each one's median round."""
    runs = [[wrk(name, url, seconds) for name, url in urls.items()] for _ in range(rounds)]
    by_rate = [sorted(column, key=lambda result: result.requests_per_second) for column in zip(*runs, strict=True)]
    return [ordered[rounds // 2] for ordered in by_rate]


def bench_stack(name: str, *, web: int = 1, target: str = "stack") -> Stack | ComposeStack:
    """A stack of the benchmark's own (make stack's or compose's), 3 workers a replica, the reference views in make stack's."""
    workers = {"GUNICORN_WORKERS": os.environ.get("GUNICORN_WORKERS", "3")}
    if target == "compose":
        return ComposeStack.isolated(name, web=web, env={**os.environ, **workers})
    return Stack.isolated(name, web=web, env={"ROOT_URLCONF": "loadtest.bench_urls", **workers})


def scale_out(seconds: int) -> str:
    """What each replica adds (compose): served new-term searches a second at 1, 2 and 3 web replicas, orders a
    second at 1 and 2 checkout replicas, each step's efficiency = rate(N) / (N x rate(1))."""
    rows, where = [], {}
    cpus = {pool: os.environ.get(f"{pool.upper()}_CPUS", "1.0") for pool in ("web", "checkout")}
    caps = {pool: float(cpus[pool]) for pool in cpus}
    with ComposeStack.isolated("bench-scale", web=1, checkout=1, env=os.environ, balanced=True) as stack:
        searches = {}
        for replicas in (1, 2, 3):
            stack.scale(web=replicas, checkout=1)
            connections = CONNECTIONS_PER_REPLICA * replicas
            with CpuWatch(stack) as watch:
                searches[replicas] = wrk(
                    "searches", f"{stack.nginx_url}/", seconds, script=NEW_TERMS, connections=connections
                )
            where[f"searches, {replicas} web"] = watch.describe(caps)
        folder = fresh(RESULTS / "scale-out")
        stack.audit("prepare", folder, "--featured-stock", "100000")
        featured = json.loads((folder / "catalog.json").read_text())["featured"]
        orders = {}
        for replicas in (1, 2):
            stack.scale(web=1, checkout=replicas)
            shoppers = Shoppers(stack.url, f"/products/{featured}/", Recorder(folder / f"record-{replicas}"))
            started = time.monotonic()
            with CpuWatch(stack) as watch:
                bought = shoppers.buy(20 * seconds, concurrency=6 * replicas)["order"]
            orders[replicas] = bought / (time.monotonic() - started)
            where[f"orders, {replicas} checkout"] = watch.describe(caps)
    for replicas, result in searches.items():
        rate, first = result.served_per_second, searches[1].served_per_second
        cells = [f"new-term searches, {replicas} web replica(s) at {cpus['web']} CPU", f"{rate:,.1f}"]
        rows.append([*cells, f"{result.p99_ms:.0f} ms", str(result.non_2xx), f"{rate / (replicas * first):.2f}"])
    for replicas, rate in orders.items():
        cells = [f"orders, {replicas} checkout replica(s) at {cpus['checkout']} CPU", f"{rate:,.2f}", "", ""]
        rows.append([*cells, f"{rate / (replicas * orders[1]):.2f}"])
    title = f"scale-out, compose (served a second; efficiency = rate(N) / (N x rate(1)); {os.cpu_count()} cores)"
    cores = "\n".join(f"- {step}: {line}" for step, line in where.items())
    notes = f"\nCores used in each step (docker stats; the load generator is outside the containers):\n\n{cores}\n"
    return table(title, ["scenario", "served/s", "p99", "non-2xx", "efficiency"], rows) + notes


def busy_cores() -> tuple[float, float]:
    """This machine's busy and total CPU time so far, in core-seconds (/proc/stat's first line)."""
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


class CpuWatch:
    """Where the cores went during one step of the scale-out table: each service of the stack (docker stats,
    sampled until the step ends) and the whole machine (/proc/stat); what is left is outside the containers:
    the load generator, the balancer, Docker itself."""

    def __init__(self, stack: ComposeStack) -> None:
        self.stack = stack
        self.samples: list[dict[str, list[float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuWatch:
        self._busy = busy_cores()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        busy, total = busy_cores()
        self.machine = (busy - self._busy[0]) / (total - self._busy[1]) * (os.cpu_count() or 1)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.stack.cpu_by_service())
            self._stop.wait(SAMPLE_EVERY_SECONDS)  # docker stats costs CPU too: a sample now and then

    def cores(self, service: str) -> list[float]:
        """The service's containers' mean cores over the samples, each (containers started mid-step count from then)."""
        per_container = [sample[service] for sample in self.samples if service in sample]
        width = max((len(sample) for sample in per_container), default=0)
        columns = [[sample[i] for sample in per_container if i < len(sample)] for i in range(width)]
        return [sum(column) / len(column) for column in columns]

    def describe(self, caps: dict[str, float]) -> str:
        """One line: each service's cores (against its cap, where capped), then the machine's, busiest first."""
        used = {service: self.cores(service) for service in {name for sample in self.samples for name in sample}}
        parts = []
        for service, cores in sorted(used.items(), key=lambda item: -sum(item[1])):
            if sum(cores) < 0.02:
                continue
            each = "/".join(f"{core:.2f}" for core in cores)
            parts.append(f"{service} {each}" + (f" of {caps[service]:g}" if service in caps else ""))
        inside = sum(sum(cores) for cores in used.values())
        outside = f"outside the containers {self.machine - inside:.2f}"
        return f"{', '.join(parts)}; {outside}; machine {self.machine:.2f} of {os.cpu_count()} cores"


def table(title: str, columns: list[str], rows: list[list[str]]) -> str:
    """``title`` over a Markdown table: text in the first column, figures (right-aligned) in the others."""
    alignment = ["---", *["---:"] * (len(columns) - 1)]
    return "\n".join([title, "", *(f"| {' | '.join(cells)} |" for cells in [columns, alignment, *rows])]) + "\n"


def render(title: str, results: list[Result]) -> str:
    title += f" (wrk -t2 -c64, {os.cpu_count()} cores, one run; ratio = requests/s against the first row)"
    rows = [result.row(str(result.non_2xx), results[0]) for result in results]
    return table(title, ["scenario", "requests/s", "p99", "non-2xx", "ratio"], rows)


def publish(name: str, report: str) -> None:
    """Print a report and keep it under var/bench/, to compare with the next run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(report)
    print(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--only", choices=["app", "nginx"], help="run one table only")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the app scenarios")
    parser.add_argument("--target", choices=["stack", "compose"], default="stack", help="make stack's or compose's")
    args = parser.parse_args()
    if args.target == "compose":
        args.only = "nginx"  # the app table needs a replica's own port
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 1
    seconds, app, edge = args.seconds, [], []
    with bench_stack("bench-1", target=args.target) as stack:
        catalog = f"{stack.url}/"
        if args.only != "nginx":
            replica = stack.replica_urls[0]
            references = {
                "constant view (reference)": f"{replica}/bench/constant",
                "minimal 24-product page, uncached (reference)": f"{replica}/bench/minimal",
                "catalog page, warm": f"{replica}/",
                "catalog page, cold (page cache miss)": f"{replica}/bench/catalog-without-page-cache",
            }
            app = interleaved_medians(references, seconds=seconds, rounds=args.rounds)
        if args.only != "app":
            # The ceiling: the rendered catalog page saved as a static file nginx serves.
            static_copy = stack.put_static("bench/catalog.html", Customer(stack.url).page("/"))
            edge.append(wrk("nginx static file (ceiling)", static_copy, seconds))
            edge.append(wrk("catalog via nginx microcache, 1 replica", catalog, seconds))
            product = stack.url + PRODUCT_LINK.search(Customer(stack.url).page("/")).group(1)
            edge.append(wrk("product page via nginx microcache, plain link", product, seconds))
            influencer = "product page via nginx microcache, influencer's link (utm_*, new fbclid each)"
            edge.append(wrk(influencer, product, seconds, script=TAGGED_LINKS))
            edge.append(wrk("catalog via nginx, no microcache, 1 replica", catalog, seconds, UNCACHED))
    if args.only != "app":
        with bench_stack("bench-3", web=3, target=args.target) as stack:
            edge.append(wrk("catalog via nginx microcache, 3 replicas", f"{stack.url}/", seconds))
            edge.append(wrk("catalog via nginx, no microcache, 3 replicas", f"{stack.url}/", seconds, UNCACHED))
    edge_title = "nginx" if args.target == "stack" else f"nginx, {args.target}"
    app_title = f"app: wrk straight at one gunicorn replica, median of {args.rounds} interleaved rounds"
    tables = [render(title, rows) for title, rows in [(app_title, app), (edge_title, edge)] if rows]
    if args.target == "compose":
        tables.append(scale_out(seconds))
    publish("latest.md" if args.target == "stack" else f"latest-{args.target}.md", "\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
