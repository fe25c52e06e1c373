"""Helpers for tests where things happen at the same instant, or a little later."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection

from deploy.readiness import wait_until

__all__ = ["run_concurrently", "wait_until"]

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
