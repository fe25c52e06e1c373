"""Helpers for tests where things happen at the same instant, or a little later."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def run_concurrently(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run ``work(i)`` in ``count`` threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(count)

    def attempt(index: int) -> T | Exception:
        barrier.wait()
        try:
            return work(index)
        except Exception as error:  # noqa: BLE001 - the outcome is what we assert on
            return error
        finally:
            connection.close()  # each thread opened its own; leave none to the test database's teardown

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
