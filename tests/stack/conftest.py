"""A real `make stack` of the tests' own: nginx, N gunicorn replicas, worker, beat.

It runs beside anything else on this machine: its own ports, run folder, database,
cache prefix and Celery queue; it is stopped (its supervisord and what that runs) and its
database dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
WEB_REPLICAS = 3


@dataclass
class Stack:
    url: str
    replica_urls: list[str]
    checkout_url: str
    run_dir: Path
    env: dict[str, str] = field(repr=False)

    def ctl(self, *args: str) -> str:
        """Ask the stack's supervisord (supervisorctl), through deploy/localstack.py; return what it said."""
        done = subprocess.run(
            [sys.executable, "deploy/localstack.py", "ctl", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.stdout

    def pid(self, program: str) -> int:
        """The PID supervisord reports for a program (web:web-1, checkout:checkout-1, worker); 0 if it is down."""
        return int(self.ctl("pid", program).strip() or 0)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: `make system-packages` installs it")
    run_id = os.environ["STAMPEDE_TEST_RUN_ID"]
    database = f"stampede_stack_{run_id}"
    run_dir = tmp_path_factory.mktemp("stack")
    port = free_port()
    web_ports = [free_port() for _ in range(WEB_REPLICAS)]
    checkout_port = free_port()
    env = {
        **os.environ,
        "STACK_RUN_DIR": str(run_dir),
        "STACK_PORT": str(port),
        "STACK_WEB_PORTS": ",".join(map(str, web_ports)),
        "STACK_CHECKOUT_PORTS": str(checkout_port),
        "ROOT_URLCONF": "tests.stack.urls",  # the shop, plus a slow page to fill the browsing pool with
        "STACK_WORKER_METRICS_PORT": str(free_port()),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "WAITINGROOM_REDIS_URL": "redis://127.0.0.1:6379/3",  # never evicted for cached pages
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": f"stampede-stack-{run_id}",
        "CELERY_TASK_DEFAULT_QUEUE": f"stampede-stack-{run_id}",
        "GUNICORN_WORKERS": "2",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = subprocess.run(
        [sys.executable, "deploy/localstack.py", "up", "--web", str(WEB_REPLICAS), "--checkout", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr + _log_tails(run_dir / "logs")
        yield Stack(
            url=f"http://127.0.0.1:{port}",
            replica_urls=[f"http://127.0.0.1:{p}" for p in web_ports],
            checkout_url=f"http://127.0.0.1:{checkout_port}",
            run_dir=run_dir,
            env=env,
        )
    finally:
        subprocess.run([sys.executable, "deploy/localstack.py", "down"], cwd=ROOT, env=env, timeout=240)
        room = redis.Redis.from_url(env["WAITINGROOM_REDIS_URL"])
        for key in room.scan_iter(match=f"{env['CACHE_KEY_PREFIX']}:*", count=1000):
            room.delete(key)
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _log_tails(folder: Path, lines: int = 15) -> str:
    """The end of every log the stack wrote, to explain a stack that did not come up."""
    return "".join(
        f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted(folder.glob("*.log"))
    )
