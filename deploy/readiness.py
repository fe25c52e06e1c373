"""Waiting for something to hold: the one poll-until-true helper, a stack's parts answering, a process ending."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 15.0, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def answers(url: str, timeout: float = 2) -> bool:
    """True if ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own loopback services
            return response.status == 200
    except OSError:
        return False


def wait_until_up(urls: list[str], timeout: float = 90) -> bool:
    """Wait until each of ``urls`` has answered 200 (each replica's /readyz, nginx's /healthz)."""
    pending = list(urls)

    def all_up() -> bool:
        while pending and answers(pending[0]):
            pending.pop(0)
        return not pending

    return wait_until(all_up, timeout, interval=0.25)


def stop_process(process: subprocess.Popen | None, *, timeout: float) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
