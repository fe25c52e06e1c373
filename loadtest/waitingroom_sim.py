"""How good is the waiting room's estimated wait? Simulated visitors against a real stack.

Visitors arrive faster than the room admits them and poll their place (JSON); the wait the room
estimated when they joined is compared with the wait they had. Runs its own stack of 3 replicas.

    python loadtest/waitingroom_sim.py --visitors 300 --arrivals-per-second 15 --admit-per-minute 600
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deploy.stack import Stack  # noqa: E402
from loadtest.bench import publish, table  # noqa: E402
from loadtest.customer import Customer  # noqa: E402


@dataclass
class Outcome:
    estimated: float
    known: bool
    actual: float


def one_visitor(number: int, url: str, poll_every: float) -> Outcome | None:
    """Join the line at replica ``url`` and poll until let in; None if let in at once (nothing to estimate)."""
    visitor, address = Customer(url), f"10.77.{number // 256}.{number % 256}"  # as nginx would forward it
    joined = time.monotonic()
    first = visitor.room_answer(forwarded_for=address)
    if first["status"] != "queued":
        return None
    while time.monotonic() - joined < 600:
        time.sleep(poll_every)
        if visitor.room_answer(forwarded_for=address)["status"] == "admitted":
            # Noticed at this poll: let in some time since the last, half an interval before on average.
            actual = time.monotonic() - joined - poll_every / 2
            return Outcome(first["estimated_wait_seconds"], first["wait_known"], actual)
    return None


def summarise(title: str, outcomes: list[Outcome]) -> list[str]:
    """Their row: how many, their mean wait, how far off the estimates were (percentages of the wait, seconds)."""
    if not outcomes:
        return [title, "0", "", "", "", "", ""]
    off_by = [abs(o.estimated - o.actual) for o in outcomes]
    errors = [off / o.actual * 100 for off, o in zip(off_by, outcomes, strict=True)]
    p90 = sorted(errors)[int(len(errors) * 0.9) - 1] if len(errors) >= 10 else max(errors)
    percentages = [f"{error:.1f}%" for error in (statistics.median(errors), statistics.mean(errors), p90)]
    wait = statistics.mean(o.actual for o in outcomes)
    return [title, str(len(outcomes)), f"{wait:.1f} s", *percentages, f"{statistics.mean(off_by):.1f} s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--arrivals-per-second", type=float, default=15)
    parser.add_argument("--admit-per-minute", type=int, default=600)
    parser.add_argument("--poll-every", type=float, default=1.0)
    args = parser.parse_args()
    with Stack.isolated("room-sim", web=3, env={"GUNICORN_WORKERS": "3"}) as stack:
        stack.manage("waitingroom", "reset")
        stack.waitingroom("on", "--total-active-users", "100000", "--new-users-per-minute", str(args.admit_per_minute))
        stack.manage("waitingroom", "reset")
        with ThreadPoolExecutor(max_workers=args.visitors) as pool:
            visitors = []
            for number in range(args.visitors):
                url = stack.replica_urls[number % len(stack.replica_urls)]
                visitors.append(pool.submit(one_visitor, number, url, args.poll_every))
                time.sleep(1 / args.arrivals_per_second)
        outcomes = [outcome for visitor in visitors if (outcome := visitor.result()) is not None]
        stack.manage("waitingroom", "off")
    long_waits = [o for o in outcomes if o.actual >= 5]
    title = (
        f"Waiting room: {args.visitors} visitors arriving at {args.arrivals_per_second}/s, admitted at "
        f"{args.admit_per_minute}/min, polling every {args.poll_every} s (3 replicas, one run)"
    )
    columns = ["visitors", "queued", "mean wait", "median error", "mean error", "p90 error", "mean error (s)"]
    rows = [
        summarise("all queued", outcomes),
        summarise("waits of 5 s or more", long_waits),
        summarise("estimate from the measured pace", [o for o in long_waits if o.known]),
        summarise("estimate from the configured pace", [o for o in long_waits if not o.known]),
    ]
    publish("waitingroom.md", table(title, columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
