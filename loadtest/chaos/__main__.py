"""`make chaos`: one fault at a time under load, each against a stack of its own, each with its figure.

    python -m loadtest.chaos [--quick] [--only worker-killed,broker-down]

Each scenario (scenarios.py, outages.py, overload.py; harness.py under them) lets customers buy
through nginx (loadtest/shoppers.py), causes its fault, audits every order as `make loadtest` does
and prints its figure and pass; the command fails when one misses. Results: var/chaos/summary.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from loadtest.chaos.harness import RESULTS
from loadtest.chaos.scenarios import QUICK, SCENARIOS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short subset, smaller and shorter")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else (QUICK if args.quick else list(SCENARIOS))
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
