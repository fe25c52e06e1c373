"""What the visitors saw, for the audit and the report.

Events go to ``events.jsonl`` one a line as they happen (a run cut short keeps what it saw);
per-second counts of every response go to ``seconds.json`` at the end.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def fresh(folder: Path) -> Path:
    """An empty results folder: nothing of an earlier run is counted."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Recorder:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._events = (folder / "events.jsonl").open("a", buffering=1)
        self.seconds: defaultdict[int, Counter] = defaultdict(Counter)
        # (answered at, latency in ms) of every checkout: the ramp judges each step as it ends.
        self.checkouts: list[tuple[float, float]] = []
        self.visitors_arrived = 0
        self.visitors_in_shop = 0  # arrived and not yet gone
        self.visitors_queued = 0  # of those, waiting in the room

    def event(self, kind: str, /, **fields: Any) -> None:
        """Write one thing that happened, stamped with the wall clock."""
        at = time.time()
        if kind == "checkout":
            self.checkouts.append((at, fields["latency_ms"]))
        self._events.write(json.dumps({"type": kind, "at": at, **fields}) + "\n")

    def response(self, status: int | None) -> None:
        """Count one response (None: no response at all) in the second it arrived."""
        counts = self.seconds[int(time.time())]
        counts["requests"] += 1
        if status is None:
            counts["no_response"] += 1
        elif status >= 500:
            counts["5xx"] += 1
            counts[str(status)] += 1
        elif status == 429:
            counts["429"] += 1

    def sample_visitors(self) -> None:
        """Note how many visitors are in the shop and in the room this second, and the CPU used so far."""
        counts = self.seconds[int(time.time())]
        counts["visitors_in_shop"] = self.visitors_in_shop
        counts["visitors_queued"] = self.visitors_queued
        counts["loadgen_cpu_s"] = round(cpu_seconds(), 3)

    def close(self, **run: Any) -> None:
        """Write the per-second counts and what the run was (``run.json``)."""
        seconds = {str(second): dict(counts) for second, counts in sorted(self.seconds.items())}
        (self.folder / "seconds.json").write_text(json.dumps(seconds))
        (self.folder / "run.json").write_text(json.dumps(run, indent=2))
        self._events.close()


def cpu_seconds() -> float:
    """The CPU time this process (Locust's, one process) has used so far, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def read_events(folder: Path) -> list[dict]:
    """Every event a run recorded, in order."""
    path = folder / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` percentile of ``values`` by nearest rank, or None for no values."""
    if not values:
        return None
    return sorted(values)[max(0, math.ceil(share * len(values)) - 1)]
