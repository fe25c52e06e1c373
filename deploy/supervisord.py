"""supervisord for `make stack`: its config, and what deploy/stack.py asks of it.

supervisord (http://supervisord.org/) runs every process of the stack as its child, starts
again any that dies, and at shutdown stops them all, gracefully and in order
(supervisord.conf.template says how). The one PID on record is supervisord's own, so
`make stack-down` stops exactly what `make stack` started: supervisord and its children.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from deploy.rendering import render

HERE = Path(__file__).resolve().parent
# The pools start first and stop last, the checkout pool after the browsing one.
POOL_PRIORITY = {"checkout": 100, "web": 150}
# supervisord stops one part after another, each within its stopwaitsecs (the templates):
# nginx, beat, the worker, each pool, the reaper; and a margin.
SHUTDOWN_SECONDS = 10 + 10 + 130 + 30 + 30 + 10 + 10


def config_file(run_dir: Path) -> Path:
    return run_dir / "supervisord.conf"


def write_config(run_dir: Path, *, pools: dict[str, list[int]], nice: dict[str, int], values: dict[str, str]) -> Path:
    """Render supervisord.conf: ``values`` fill in the templates, one replica for each port of a pool."""
    escaped = {name: value.replace("%", "%%") for name, value in values.items()}  # supervisord expands %(x)s
    replica = (HERE / "supervisord.replica.template").read_text()
    sections = []
    for pool, ports in pools.items():
        names = [f"{pool}-{index + 1}" for index in range(len(ports))]
        for name, port in zip(names, ports, strict=True):
            sections.append(
                render(
                    replica,
                    {**escaped, "STAMPEDE_NAME": name, "STAMPEDE_PORT": str(port), "STAMPEDE_NICE": str(nice[pool])},
                )
            )
        if names:
            sections.append(f"[group:{pool}]\nprograms={','.join(names)}\npriority={POOL_PRIORITY[pool]}\n")
    template = (HERE / "supervisord.conf.template").read_text()
    conf = config_file(run_dir)
    conf.write_text(render(template, {**escaped, "STAMPEDE_REPLICAS": "\n".join(sections)}))
    return conf


def start(run_dir: Path, env: dict[str, str]) -> None:
    """Start supervisord, which daemonizes and starts every program of its config."""
    if importlib.util.find_spec("supervisor") is None:
        raise SystemExit(f"supervisor is not installed in {sys.executable}: make install")
    subprocess.run(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(config_file(run_dir))],
        cwd=HERE.parent,
        env=env,
        check=True,
    )


def ctl(run_dir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    """Run supervisorctl against this run folder's supervisord (status, pid NAME, restart web:*...)."""
    return subprocess.run(
        [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(config_file(run_dir)), *args],
        capture_output=capture,
        text=True,
    )


def running_pid(run_dir: Path) -> int | None:
    """The PID of this run folder's supervisord, if it runs (the pidfile's PID may be another's by now)."""
    try:
        pid = int((run_dir / "supervisord.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError):
        return None
    ours = b"supervisor.supervisord" in cmdline and str(config_file(run_dir)).encode() in cmdline
    return pid if ours and state != "Z" else None


def shutdown(run_dir: Path) -> bool:
    """Stop every program, then supervisord; wait until it has exited. False if it was not running."""
    pid = running_pid(run_dir)
    if pid is None:
        return False
    if ctl(run_dir, "shutdown", capture=True).returncode != 0:
        os.kill(pid, signal.SIGTERM)  # its socket did not answer: the signal asks the same
    deadline = time.monotonic() + SHUTDOWN_SECONDS
    while running_pid(run_dir) == pid:
        if time.monotonic() > deadline:
            raise SystemExit(
                f"supervisord (pid {pid}) has not stopped the stack in {SHUTDOWN_SECONDS} s; "
                f"see {run_dir / 'logs' / 'supervisord.log'}"
            )
        time.sleep(0.2)
    return True
