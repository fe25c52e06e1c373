"""What several resilience tests share: waiting on a condition instead of a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], *, within: float = 5.0, every: float = 0.05) -> T:
    """Return ``probe()``'s first truthy answer, asking again until ``within`` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        answer = probe()
        if answer or time.monotonic() > deadline:
            assert answer, f"not so within {within} s"
            return answer
        time.sleep(every)
