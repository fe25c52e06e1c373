"""What every chaos scenario stands on: a stack of its own with its catalog, its customers, its result."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.compose import ComposeStack
from deploy.stack import ROOT, Stack
from loadtest.record import Recorder, fresh, read_events
from loadtest.run import GATEWAY
from loadtest.shoppers import Shoppers

RESULTS = ROOT / "var" / "chaos"
RECOVERY_SECONDS = 60  # the promise: every order processed within a minute of the fault's end
# What the audit must find none of, whatever the fault.
GUARANTEES = (
    "orders_lost",
    "orders_unsettled",
    "duplicate_charges",
    "duplicate_emails",
    "confirmed_without_charge",
    "oversold",
)


@dataclass
class ScenarioResult:
    scenario: str
    passed: bool
    summary: str
    measured: dict


@dataclass
class ChaosRun:
    """A running scenario: its stack, its folder, its customers (who record into ``folder / "record"``)."""

    name: str
    stack: Stack | ComposeStack
    folder: Path
    shoppers: Shoppers

    def events(self, kind: str) -> list[dict]:
        """The events of ``kind`` the customers recorded (checkout, buyer...)."""
        return [e for e in read_events(self.folder / "record") if e["type"] == kind]

    def audit(self) -> dict:
        self.shoppers.recorder.close(scenario="chaos")
        return self.stack.audit("check", self.folder, "--settle-seconds", "240", record=self.folder / "record")

    def result(self, audit: dict, passed: bool, summary: str, measured: dict) -> ScenarioResult:
        """The scenario's result; it fails too when the audit found a guarantee broken (each count is measured)."""
        counts = {name: audit[name] for name in GUARANTEES}
        counts["products_stock_not_conserved"] = len(audit["stock_not_conserved"])
        broken = {name: n for name, n in counts.items() if n}
        said = f"BROKEN: {broken}" if broken else "nothing lost, unfinished or charged twice"
        return ScenarioResult(self.name, passed and not broken, f"{summary}; {said}", {**measured, **counts})


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
    """A stack of the scenario's own, its catalog prepared; ``database_port``: reach PostgreSQL through it.

    make stack's, or with CHAOS_TARGET=compose (``make chaos TARGET=compose``) compose's, behind its load balancer.
    """
    folder = fresh(RESULTS / name)
    run_id = f"{name.replace('-', '_')}_{os.getpid()}"
    env = {**GATEWAY, **(env or {})}
    if database_port:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{database_port}/stampede_chaos_{run_id}"
    if on_compose():
        stack = ComposeStack.isolated(f"chaos-{run_id}", web=web, checkout=checkout, settings=env, balanced=True)
    else:
        stack = Stack.isolated(f"chaos-{run_id}", web=web, checkout=checkout, env=env, run_dir=folder / "stack")
    with stack:
        stack.audit("prepare", folder, "--featured-stock", str(featured_stock))
        featured = json.loads((folder / "catalog.json").read_text())["featured"]
        shoppers = Shoppers(stack.url, f"/products/{featured}/", Recorder(folder / "record"))
        yield ChaosRun(name, stack, folder, shoppers)


def on_compose() -> bool:
    """Whether the scenarios run against compose stacks (``--target compose`` sets CHAOS_TARGET)."""
    return os.environ.get("CHAOS_TARGET", "stack") == "compose"


def in_seconds(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f} s"
