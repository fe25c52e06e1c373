"""What every chaos scenario stands on: a stack of its own with its catalog, its customers' record, its result."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from deploy.readiness import wait_until
from deploy.stack import ROOT, Stack
from loadtest.record import Recorder, fresh, read_events
from loadtest.run import GATEWAY
from loadtest.shoppers import Tally

RESULTS = ROOT / "var" / "chaos"
RECOVERY_SECONDS = 60  # the promise: every order processed within a minute of the fault's end


@dataclass
class ScenarioResult:
    scenario: str
    passed: bool
    summary: str
    measured: dict


@dataclass
class ChaosRun:
    """A running scenario: its stack, the shop's product to buy, where its record goes."""

    stack: Stack
    folder: Path
    recorder: Recorder
    tally: Tally
    product_path: str

    def kill(self, program: str) -> int:
        """SIGKILL ``program`` and its children (its process group), as a crash or the OOM killer would."""
        pid = self.stack.pid(program)
        os.killpg(pid, signal.SIGKILL)
        return pid

    def restarted(self, program: str, old_pid: int, timeout: float = 60) -> float | None:
        """Seconds until supervisord runs ``program`` again under a new PID, or None."""
        started = time.monotonic()
        if wait_until(lambda: self.stack.pid(program) not in (0, old_pid), timeout):
            return time.monotonic() - started
        return None

    def orders(self, status: str) -> int:
        with psycopg.connect(self.stack.database_url.replace("postgres://", "postgresql://")) as connection:
            return connection.execute("SELECT count(*) FROM shop_order WHERE status = %s", [status]).fetchone()[0]

    def audit(self, settle_seconds: float = 240) -> dict:
        self.recorder.close(scenario="chaos")
        return json.loads(
            self.stack.python(
                "-m",
                "loadtest.audit",
                "check",
                "--folder",
                str(self.folder),
                "--record",
                str(self.folder / "record"),
                "--settle-seconds",
                str(settle_seconds),
            )
        )


@contextmanager
def chaos_run(
    name: str,
    *,
    web: int = 1,
    checkout: int = 1,
    env: dict[str, str] | None = None,
    featured_stock: int = 100_000,
    database_port: int | None = None,
) -> Iterator[ChaosRun]:
    """A stack of the scenario's own, its catalog prepared; ``database_port``: reach PostgreSQL through it."""
    folder = fresh(RESULTS / name)
    run_id = f"{name.replace('-', '_')}_{os.getpid()}"
    env = {**GATEWAY, **(env or {})}
    if database_port:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{database_port}/stampede_chaos_{run_id}"
    with Stack.isolated(f"chaos-{run_id}", web=web, checkout=checkout, env=env, run_dir=folder / "stack") as stack:
        stack.python(
            "-m", "loadtest.audit", "prepare", "--folder", str(folder), "--featured-stock", str(featured_stock)
        )
        featured = json.loads((folder / "catalog.json").read_text())["featured"]
        yield ChaosRun(stack, folder, Recorder(folder / "record"), Tally(), f"/products/{featured}/")


class BrokenGuarantees(dict):
    """How often the audit found each guarantee broken: false when all were kept, in words as a string."""

    NAMES = (
        "orders_lost",
        "orders_unsettled",
        "duplicate_charges",
        "duplicate_emails",
        "confirmed_without_charge",
        "oversold",
    )

    @classmethod
    def of(cls, audit: dict) -> BrokenGuarantees:
        counts = {name: audit[name] for name in cls.NAMES}
        return cls(counts, products_stock_not_conserved=len(audit["stock_not_conserved"]))

    def __bool__(self) -> bool:
        return any(self.values())

    def __str__(self) -> str:
        broken = {name: n for name, n in self.items() if n}
        return "nothing lost, unfinished or charged twice" if not broken else f"BROKEN: {broken}"


def recorded(s: ChaosRun, kind: str) -> list[dict]:
    """The events of ``kind`` the scenario's customers recorded (checkout, buyer...)."""
    return [e for e in read_events(s.folder / "record") if e["type"] == kind]


def in_seconds(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f} s"
