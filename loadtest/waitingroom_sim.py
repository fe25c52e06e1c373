"""How good is the waiting room's estimated wait? Simulated visitors against a real stack.

Visitors arrive faster than the room admits them, each polls its place (JSON) every
second, and we compare the wait the room estimated when they joined with the wait they
actually had. Runs its own `make stack` (3 replicas) and stops it.

    python loadtest/waitingroom_sim.py --visitors 300 --arrivals-per-second 15 --admit-per-minute 600
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deploy.stack import Stack  # noqa: E402
from loadtest.bench import publish  # noqa: E402
from loadtest.customer import Customer  # noqa: E402


@dataclass
class Outcome:
    estimated: float
    known: bool
    actual: float


def one_visitor(number: int, url: str, poll_every: float, outcomes: list, lock: threading.Lock) -> None:
    # Straight to a replica, with the address nginx would forward for this visitor.
    visitor, address = Customer(url), f"10.77.{number // 256}.{number % 256}"
    joined = time.monotonic()
    first = visitor.room_answer(forwarded_for=address)
    if first["status"] != "queued":
        return  # let in at once: nothing to estimate
    while time.monotonic() - joined < 600:
        time.sleep(poll_every)
        if visitor.room_answer(forwarded_for=address)["status"] == "admitted":
            # The visitor notices on their next poll: count the wait until the poll before,
            # plus half an interval, the expected moment of admission.
            actual = time.monotonic() - joined - poll_every / 2
            with lock:
                outcomes.append(Outcome(first["estimated_wait_seconds"], first["wait_known"], actual))
            return


def summarise(title: str, outcomes: list[Outcome]) -> str:
    if not outcomes:
        return f"| {title} | 0 | | | | |"
    errors = [abs(o.estimated - o.actual) / o.actual * 100 for o in outcomes]
    seconds = [abs(o.estimated - o.actual) for o in outcomes]
    p90 = sorted(errors)[int(len(errors) * 0.9) - 1] if len(errors) >= 10 else max(errors)
    return (
        f"| {title} | {len(outcomes)} | {statistics.mean(o.actual for o in outcomes):.1f} s "
        f"| {statistics.median(errors):.1f}% | {statistics.mean(errors):.1f}% | {p90:.1f}% | {statistics.mean(seconds):.1f} s |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--arrivals-per-second", type=float, default=15)
    parser.add_argument("--admit-per-minute", type=int, default=600)
    parser.add_argument("--poll-every", type=float, default=1.0)
    args = parser.parse_args()
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    run(args, outcomes, lock)
    return report(args, outcomes)


def run(args: argparse.Namespace, outcomes: list[Outcome], lock: threading.Lock) -> None:
    with Stack.isolated("room-sim", web=3, env={"GUNICORN_WORKERS": "3"}) as stack:
        stack.manage("waitingroom", "reset")
        stack.waitingroom("on", "--total-active-users", "100000", "--new-users-per-minute", str(args.admit_per_minute))
        stack.manage("waitingroom", "reset")
        threads = []
        for number in range(args.visitors):
            url = stack.replica_urls[number % len(stack.replica_urls)]
            thread = threading.Thread(target=one_visitor, args=(number, url, args.poll_every, outcomes, lock))
            thread.start()
            threads.append(thread)
            time.sleep(1 / args.arrivals_per_second)
        for thread in threads:
            thread.join(timeout=700)
        stack.manage("waitingroom", "off")


def report(args: argparse.Namespace, outcomes: list[Outcome]) -> int:
    long_waits = [o for o in outcomes if o.actual >= 5]
    text = (
        "\n".join(
            [
                f"Waiting room: {args.visitors} visitors arriving at {args.arrivals_per_second}/s, admitted at "
                f"{args.admit_per_minute}/min, polling every {args.poll_every} s (3 replicas, one run)",
                "",
                "| visitors | queued | mean wait | median error | mean error | p90 error | mean error (s) |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
                summarise("all queued", outcomes),
                summarise("waits of 5 s or more", long_waits),
                summarise("estimate from the measured pace", [o for o in long_waits if o.known]),
                summarise("estimate from the configured pace", [o for o in long_waits if not o.known]),
            ]
        )
        + "\n"
    )
    publish("waitingroom.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
