"""`make bench`'s third table: what persistent database connections are worth here, measured.

Two one-replica stacks, the same but for DB_CONN_MAX_AGE: 60, Stampede's setting (each gunicorn
thread keeps its connection), and 0, Django's default (one per request). wrk asks each for the
minimal uncached 24-product page in interleaved rounds; PostgreSQL counts the connections each
database saw (pg_stat_database.sessions).
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack

import psycopg

from deploy.stack import POSTGRES_ADMIN
from loadtest.bench import bench_stack, interleaved_medians, publish, table

STRATEGIES = {"persistent (DB_CONN_MAX_AGE=60)": "60", "per request (DB_CONN_MAX_AGE=0)": "0"}


def sessions_started(database: str) -> int:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        row = connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database]).fetchone()
    return row[0] if row else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with ExitStack() as running:
        stacks = [
            running.enter_context(bench_stack(f"bench-conn-{age}", GUNICORN_WORKERS="3", DB_CONN_MAX_AGE=age))
            for age in STRATEGIES.values()
        ]
        before = [sessions_started(stack.database) for stack in stacks]
        urls = {name: f"{stack.replica_urls[0]}/bench/minimal" for name, stack in zip(STRATEGIES, stacks, strict=True)}
        results = interleaved_medians(urls, seconds=args.seconds, rounds=args.rounds)
        time.sleep(2)  # PostgreSQL publishes a backend's counts within about a second
        opened = [sessions_started(stack.database) - was for stack, was in zip(stacks, before, strict=True)]
    title = (
        f"database connections: the minimal uncached page, one replica of 3 workers x 2 threads each, "
        f"median of {args.rounds} interleaved rounds (ratio = requests/s against the first row)"
    )
    columns = ["strategy", "requests/s", "p99", "connections opened", "ratio"]
    rows = [result.row(f"{count:,}", results[0]) for result, count in zip(results, opened, strict=True)]
    publish("connections.md", table(title, columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
