"""`make bench`: requests per second and p99, measured with wrk in one run.

Two tables. "app": wrk straight at one gunicorn replica (3 workers, PostgreSQL with
persistent connections, Redis), the shop's catalog against two reference views served by
the same process: a constant response and a minimal uncached 24-product page. "nginx":
the catalog through nginx with 1 and 3 replicas, microcached or not, against nginx
serving the same page as a static file (the ceiling on this machine).

Every figure comes from the same run on the same machine: compare the ratios, not the
absolute numbers (wrk shares the cores with the server).

    python -m loadtest.bench
    python -m loadtest.bench --seconds 5
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from deploy.stack import Stack
from loadtest.customer import Customer
from loadtest.pages import PRODUCT_LINK

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench"


@dataclass
class Result:
    name: str
    requests_per_second: float
    p99_ms: float
    non_2xx: int


# Each request an influencer's link of its own: utm_* tags and a new fbclid every time.
TAGGED_LINKS = Path(__file__).with_name("tagged_links.lua")


def wrk(name: str, url: str, seconds: int, headers: dict[str, str] | None = None, script: Path | None = None) -> Result:
    """Run wrk -t2 -c64 (the machine's anchors use the same) and parse its summary."""
    command = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url]
    for header, value in (headers or {}).items():
        command[1:1] = ["-H", f"{header}: {value}"]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    # The tagged-links script asks for the page of the URL's path.
    env = {**os.environ, "WRK_PATH": urllib.parse.urlsplit(url).path}
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(name, rps, float(p99.group(1)) * scale, int(non_2xx.group(1)) if non_2xx else 0)


def median_of(results: tuple[Result, ...]) -> Result:
    """The median round of one scenario (by requests/s; p99 and errors from that same round)."""
    ordered = sorted(results, key=lambda result: result.requests_per_second)
    return ordered[len(ordered) // 2]


def bench_stack(web: int) -> Stack:
    """A stack of the benchmark's own, with its reference views, 3 workers a replica."""
    env = {"ROOT_URLCONF": "loadtest.bench_urls", "GUNICORN_WORKERS": os.environ.get("GUNICORN_WORKERS", "3")}
    return Stack.isolated(f"bench-{web}", web=web, env=env)


def a_product_path(stack: Stack) -> str:
    """The path of the first product the catalog lists."""
    return PRODUCT_LINK.search(Customer(stack.url).page("/")).group(1)


def publish_static_copy(stack: Stack) -> str:
    """Save the rendered catalog page as a static file nginx serves: the ceiling."""
    target = ROOT / "staticfiles" / "bench" / "catalog.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Customer(stack.url).page("/"), encoding="utf-8")
    return f"{stack.url}/static/bench/catalog.html"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--only", choices=["app", "nginx"], help="run one table only")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the app scenarios")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 1
    app: list[Result] = []
    edge: list[Result] = []
    # A session cookie makes nginx bypass its microcache: the request reaches Django.
    uncached = {"Cookie": "sessionid=bench-no-such-session"}
    with bench_stack(web=1) as stack:
        seconds, replica = args.seconds, stack.replica_urls[0]
        if args.only != "nginx":
            scenarios = [
                ("constant view (reference)", f"{replica}/bench/constant", None),
                ("minimal 24-product page, uncached (reference)", f"{replica}/bench/minimal", None),
                ("catalog page, warm", f"{replica}/", None),
                ("catalog page, cold (page cache miss)", f"{replica}/bench/catalog-without-page-cache", None),
            ]
            # Interleaved rounds, medians kept: this machine's noise hits every scenario alike.
            rounds = [
                [wrk(name, url, seconds, script=script) for name, url, script in scenarios] for _ in range(args.rounds)
            ]
            app.extend(median_of(column) for column in zip(*rounds, strict=True))
        if args.only != "app":
            edge.append(wrk("nginx static file (ceiling)", publish_static_copy(stack), seconds))
            edge.append(wrk("catalog via nginx microcache, 1 replica", f"{stack.url}/", seconds))
            product = f"{stack.url}{a_product_path(stack)}"
            edge.append(wrk("product page via nginx microcache, plain link", product, seconds))
            edge.append(
                wrk(
                    "product page via nginx microcache, influencer's link (utm_*, new fbclid each)",
                    product,
                    seconds,
                    script=TAGGED_LINKS,
                )
            )
            edge.append(wrk("catalog via nginx, no microcache, 1 replica", f"{stack.url}/", seconds, uncached))
    if args.only != "app":
        with bench_stack(web=3) as stack:
            edge.append(wrk("catalog via nginx microcache, 3 replicas", f"{stack.url}/", seconds))
            edge.append(wrk("catalog via nginx, no microcache, 3 replicas", f"{stack.url}/", seconds, uncached))
    tables = [
        (f"app: wrk straight at one gunicorn replica, median of {args.rounds} interleaved rounds", app),
        ("nginx", edge),
    ]
    report = "\n".join(render(title, results) for title, results in tables if results)
    publish("latest.md", report)
    return 0


def publish(name: str, report: str) -> None:
    """Print a report and keep it under var/bench/, to compare with the next run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(report)
    print(report)


def render(title: str, results: list[Result]) -> str:
    ceiling = results[0].requests_per_second
    lines = [
        f"{title} (wrk -t2 -c64, {os.cpu_count()} cores, one run; ratio = requests/s against the first row)",
        "",
        "| scenario | requests/s | p99 | non-2xx | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.requests_per_second:,.0f} | {result.p99_ms:.1f} ms | {result.non_2xx} "
            f"| {result.requests_per_second / ceiling:.3f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
