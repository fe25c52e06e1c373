"""Waiting for the stack's parts to answer (each replica's /readyz, nginx's /healthz)."""

from __future__ import annotations

import time
import urllib.request


def wait_until_up(urls: list[str], timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(pending[0], timeout=2) as response:
                if response.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        time.sleep(0.25)
    return not pending
