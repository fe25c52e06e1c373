"""`make chaos`: one fault at a time under load, each against a stack of its own, each with its figure.

    python -m loadtest.chaos                       # every scenario
    python -m loadtest.chaos --quick               # shorter and smaller: what CI runs
    python -m loadtest.chaos --only worker-killed,broker-down

The scenarios are in scenarios.py, outages.py and overload.py; what they stand on in harness.py.

A scenario starts a `make stack` of its own (``Stack.isolated``: free ports, its own database,
under supervisord), lets customers buy through nginx from loopback addresses of their own
(loadtest/shoppers.py), causes its fault, then audits every order as `make loadtest` does
(loadtest/audit.py). It prints its figure and its pass; the command fails when one misses.
Results: var/chaos/summary.json.
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
    (RESULTS / "summary.json").write_text(json.dumps([asdict(f) for f in results], indent=2))
    return 0 if all(f.passed for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
