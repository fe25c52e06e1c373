"""A `make stack` of a benchmark's own: free ports, its own database, stopped (its supervisord) at the end.

    with OwnStack(name="bench-1", web=1, database="stampede_bench") as stack:
        ...  # stack.url is nginx; stack.replica_urls are the gunicorn replicas

Used by `make bench`, `make loadtest` and `make chaos`, so all measure exactly what `make stack` runs.
Target is what a run reads of a stack it measures (its own, or a running `make stack`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnStack:
    """nginx, ``web`` browsing and ``checkout`` buying replicas, a worker and beat, as `make stack` starts them."""

    def __init__(
        self,
        *,
        name: str,
        web: int,
        database: str,
        checkout: int = 1,
        env: dict[str, str] | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.web = web
        self.checkout = checkout
        self.database = database
        self.run_dir = run_dir or ROOT / "var" / "stacks" / name
        self.port = free_port()
        self.web_ports = [free_port() for _ in range(web)]
        self.checkout_ports = [free_port() for _ in range(checkout)]
        self.worker_metrics_port = free_port()
        self.cache_prefix = f"stampede-{name}"
        self.env = {
            **os.environ,
            "STACK_RUN_DIR": str(self.run_dir),
            "STACK_PORT": str(self.port),
            "STACK_WEB_PORTS": ",".join(map(str, self.web_ports)),
            "STACK_CHECKOUT_PORTS": ",".join(map(str, self.checkout_ports)),
            "STACK_WORKER_METRICS_PORT": str(self.worker_metrics_port),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "CACHE_KEY_PREFIX": self.cache_prefix,
            "CELERY_TASK_DEFAULT_QUEUE": self.cache_prefix,
            **(env or {}),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.replica_urls = [f"http://127.0.0.1:{port}" for port in self.web_ports]

    @property
    def replica_url(self) -> str:
        return self.replica_urls[0]

    def __enter__(self) -> OwnStack:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._localstack("up", "--web", str(self.web), "--checkout", str(self.checkout))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._localstack("down")
        finally:
            drop_database(self.database)
            forget_stack_keys(
                self.cache_prefix,
                cache_url=self.env.get("REDIS_URL"),
                broker_url=self.env.get("CELERY_BROKER_URL"),
                room_url=self.env.get("WAITINGROOM_REDIS_URL"),
            )

    def restart(self, *programs: str) -> None:
        """Replace replicas one at a time, each drained from nginx first (`make stack-restart`)."""
        self._localstack("restart", *programs)

    def _localstack(self, *args: str) -> None:
        subprocess.run([sys.executable, "deploy/localstack.py", *args], cwd=ROOT, env=self.env, check=True)

    def description(self) -> dict:
        """What deploy/localstack.py wrote about the running stack (stack.json)."""
        return json.loads((self.run_dir / "stack.json").read_text())

    def manage(self, *args: str) -> str:
        """Run a management command against this stack; return what it printed."""
        described = self.description()
        env = {**self.env, "DJANGO_SETTINGS_MODULE": described["settings_module"], "ENV_FILE": described["env_file"]}
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout


def drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def forget_stack_keys(
    prefix: str, *, cache_url: str | None = None, broker_url: str | None = None, room_url: str | None = None
) -> None:
    """Delete a stack's keys from the shared Redis: its cache entries, its room, its Celery queue."""
    # deploy/localstack.py's defaults
    for url in {cache_url or "redis://127.0.0.1:6379/1", room_url or "redis://127.0.0.1:6379/3"}:
        store = redis.Redis.from_url(url)
        for key in store.scan_iter(match=f"{prefix}:*", count=1000):
            store.delete(key)
    redis.Redis.from_url(broker_url or "redis://127.0.0.1:6379/2").delete(prefix, f"_kombu.binding.{prefix}")


def caches_empty(*, prefix: str, cache_url: str, nginx_cache_dir: str) -> int:
    """Empty a running stack's caches, as a cold start would: Redis entries and nginx's microcache.

    The waiting room's state is kept (it is not a cache, and may share this database). Each process's own memory tier
    empties itself: its keys carry the namespace version, which is deleted here, so every
    process computes pages anew within CACHE_VERSION_LOCAL_SECONDS. Returns the keys deleted.
    """
    cache = redis.Redis.from_url(cache_url)
    room = f"{prefix}:waitingroom:"
    doomed = [key for key in cache.scan_iter(match=f"{prefix}:*", count=1000) if not key.decode().startswith(room)]
    for start in range(0, len(doomed), 500):
        cache.delete(*doomed[start : start + 500])
    for entry in Path(nginx_cache_dir).iterdir():
        shutil.rmtree(entry, ignore_errors=True)
    return len(doomed)


@dataclass
class Target:
    """What a run needs to know of the stack it measures."""

    url: str
    web_ports: list[int]
    checkout_ports: list[int]
    worker_metrics_port: int
    settings_module: str
    env_file: str
    nginx_cache_dir: str

    @classmethod
    def read(cls, run_dir: Path) -> Target:
        described = json.loads((run_dir / "stack.json").read_text())
        return cls(**{name: described[name] for name in cls.__dataclass_fields__})

    def settings(self) -> dict[str, str]:
        """The stack's own settings, as `make stack` wrote them (stack.env)."""
        lines = Path(self.env_file).read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))

    def run(self, *command: str) -> str:
        """Run a Python command inside the stack's settings; return what it printed."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "ENV_FILE": self.env_file,
            "PYTHONPATH": str(ROOT),
        }
        return subprocess.run(
            [sys.executable, *command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout


def fresh(folder: Path) -> Path:
    """An empty results folder: nothing of an earlier sitting is counted."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
