"""`make chaos`: one fault at a time under load, each against a stack of its own, each with its figure.

    python -m loadtest.chaos [--quick] [--only worker-killed,broker-down] [--target compose]

Each scenario (scenarios.py, outages.py, overload.py; harness.py under them) lets customers buy
through nginx (loadtest/shoppers.py), causes its fault, audits every order as `make loadtest` does
and prints its figure and pass; the command fails when one misses. Results: var/chaos/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

from loadtest.chaos.harness import RESULTS
from loadtest.chaos.scenarios import ON_COMPOSE, QUICK, QUICK_ON_COMPOSE, SCENARIOS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short subset, smaller and shorter")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    parser.add_argument(
        "--target", choices=("stack", "compose"), default="stack", help=f"compose runs {', '.join(ON_COMPOSE)}"
    )
    args = parser.parse_args()
    on_compose = args.target == "compose"
    default = (QUICK_ON_COMPOSE if args.quick else ON_COMPOSE) if on_compose else (QUICK if args.quick else SCENARIOS)
    names = args.only.split(",") if args.only else list(default)
    if on_compose and (elsewhere := set(names) - set(ON_COMPOSE)):
        parser.error(f"make stack's only: {', '.join(sorted(elsewhere))} (on compose: {', '.join(ON_COMPOSE)})")
    os.environ["CHAOS_TARGET"] = args.target  # read by every scenario's chaos_run
    results = []
    for name in names:
        started = time.monotonic()
        result = SCENARIOS[name](quick=args.quick)
        result.measured["scenario_seconds"] = round(time.monotonic() - started)
        results.append(result)
        print(f"{'PASS' if result.passed else 'FAIL'} {name}: {result.summary}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
