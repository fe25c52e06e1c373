"""The ramp's figure, each configuration's capacity, and what the overload is measured against.

A configuration's capacity is the highest ramp step before the first step out of bound
(loadtest/stress.py's rule): in visitors a second (the step's arrival rate) and in orders a
second (those placed in the step's second half, once the step had settled).
"""

from __future__ import annotations

import json
from pathlib import Path

from loadtest.stress import DEFAULT_OVERLOAD_RATE


def ramp_capacity(summary: Path) -> dict[str, dict]:
    """Each configuration's capacity as the last ramp measured it (``summary``: its summary.json); {} if none."""
    if not summary.exists():
        return {}
    configurations = json.loads(summary.read_text()).get("configurations", {})
    return {name: figures["capacity"] for name, figures in configurations.items() if figures.get("capacity")}


def default_overload_rate(capacities: dict[str, dict]) -> float:
    """Twice Stampede's capacity in visitors a second, or a fixed rate when no ramp has measured it."""
    visitors = capacities.get("stampede", {}).get("visitors_per_second")
    return 2 * visitors if visitors else DEFAULT_OVERLOAD_RATE
