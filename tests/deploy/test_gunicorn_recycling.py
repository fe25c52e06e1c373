"""gunicorn recycles a worker for what recycling is for, its memory, not after a count of requests.

Real gunicorn, as deploy/gunicorn.conf.py configures it for every replica: one worker, whose
process id tells whether it was replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.stack import free_port
from tests.concurrency import wait_until

ROOT = Path(__file__).resolve().parent.parent.parent
CHECKED_EVERY = 100  # requests (deploy/gunicorn.conf.py's MEMORY_CHECK_EVERY)


@contextmanager
def replica(**env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env={
            **os.environ,
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "1",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_ACCESSLOG": "",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: answers(f"{base}/healthz"), timeout=30), "the replica did not start"
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def workers(server: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def serve(base: str, count: int) -> None:
    for _ in range(count):
        assert answers(f"{base}/healthz")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from Linux's /proc")
def test_a_worker_grown_past_its_memory_bound_is_replaced_after_its_requests():
    with replica(GUNICORN_MAX_WORKER_MEMORY_MB="1") as (base, server):  # every worker is over 1 MB
        first = workers(server)

        serve(base, CHECKED_EVERY + 10)

        assert wait_until(lambda: bool(workers(server)) and workers(server).isdisjoint(first), timeout=30)
        assert answers(f"{base}/healthz")  # its successor serves


def test_a_worker_within_its_memory_bound_serves_on_however_many_requests():
    with replica() as (base, server):  # as every replica runs: a bound of 200 MB, no request count
        first = workers(server)

        serve(base, 3 * CHECKED_EVERY)
        time.sleep(1)  # a worker told to stop would be gone by now

        assert workers(server) == first
