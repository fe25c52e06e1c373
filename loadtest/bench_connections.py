"""`make bench`'s third table: what persistent database connections are worth here, measured.

Two one-replica stacks side by side, the same but for DB_CONN_MAX_AGE: 60, Stampede's setting
(each gunicorn thread keeps its connection), and 0, Django's default (a connection per
request). wrk asks each for the minimal uncached 24-product page, in interleaved rounds.
PostgreSQL's own count of the sessions each database saw (pg_stat_database.sessions) says how
many connections each replica opened for them.

    python -m loadtest.bench_connections            # make bench runs it after loadtest.bench
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack

import psycopg

from deploy.stack import POSTGRES_ADMIN, Stack
from loadtest.bench import Result, median_of, publish, wrk

STRATEGIES = {"persistent (DB_CONN_MAX_AGE=60)": "60", "per request (DB_CONN_MAX_AGE=0)": "0"}
STATS_FLUSH_SECONDS = 2  # PostgreSQL publishes a backend's counts within about a second


def sessions_started(database: str) -> int:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        row = connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database]).fetchone()
    return row[0] if row else 0


def measure(*, seconds: int, rounds: int) -> list[tuple[Result, int]]:
    """(the median round's wrk result, connections opened in all rounds) for each strategy."""
    with ExitStack() as stacks:
        stacks_by_name = {
            name: stacks.enter_context(
                Stack.isolated(
                    f"bench-conn-{age}",
                    web=1,
                    env={"ROOT_URLCONF": "loadtest.bench_urls", "GUNICORN_WORKERS": "3", "DB_CONN_MAX_AGE": age},
                )
            )
            for name, age in STRATEGIES.items()
        }
        before = {name: sessions_started(stack.database) for name, stack in stacks_by_name.items()}
        results = {name: [] for name in STRATEGIES}
        for _ in range(rounds):
            for name, stack in stacks_by_name.items():
                results[name].append(wrk(name, f"{stack.replica_urls[0]}/bench/minimal", seconds))
        time.sleep(STATS_FLUSH_SECONDS)
        opened = {name: sessions_started(stack.database) - before[name] for name, stack in stacks_by_name.items()}
    return [(median_of(tuple(results[name])), opened[name]) for name in STRATEGIES]


def render(measured: list[tuple[Result, int]], *, rounds: int) -> str:
    first = measured[0][0].requests_per_second
    lines = [
        f"database connections: the minimal uncached page, one replica of 3 workers x 2 threads each, "
        f"median of {rounds} interleaved rounds (ratio = requests/s against the first row)",
        "",
        "| strategy | requests/s | p99 | connections opened | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for result, opened in measured:
        lines.append(
            f"| {result.name} | {result.requests_per_second:,.0f} | {result.p99_ms:.1f} ms | {opened:,} "
            f"| {result.requests_per_second / first:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    publish("connections.md", render(measure(seconds=args.seconds, rounds=args.rounds), rounds=args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
