"""supervisord for `make stack`: its config, and what deploy/stack.py asks of it.

It runs every process of the stack as its child, starts again any that dies, and stops them all in
order (supervisord.conf.template); its PID is the one on record: stack-down stops what stack started.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

from deploy.readiness import wait_until
from deploy.rendering import render

HERE = Path(__file__).resolve().parent
# The pools start first and stop last, the checkout pool after the browsing one.
POOL_PRIORITY = {"checkout": 100, "web": 150}
# The stopwaitsecs of each part, stopped in turn: nginx, beat, the worker, each pool, the reaper; a margin.
SHUTDOWN_SECONDS = 10 + 10 + 130 + 30 + 30 + 10 + 10


def config_file(run_dir: Path) -> Path:
    return run_dir / "supervisord.conf"


def write_config(run_dir: Path, *, pools: dict[str, list[int]], nice: dict[str, int], values: dict[str, str]) -> Path:
    """Render supervisord.conf: ``values`` fill in the templates, one replica for each port of a pool."""
    here = {"STAMPEDE_ROOT": str(HERE.parent), "STAMPEDE_RUN_DIR": str(run_dir), "STAMPEDE_PYTHON": sys.executable}
    # supervisord expands %(name)s: a literal % is written %%.
    escaped = {name: value.replace("%", "%%") for name, value in {**here, **values}.items()}
    replica = (HERE / "supervisord.replica.template").read_text()
    sections = []
    for pool, ports in pools.items():
        names = [f"{pool}-{index}" for index in range(1, len(ports) + 1)]
        for name, port in zip(names, ports, strict=True):
            own = {"STAMPEDE_NAME": name, "STAMPEDE_PORT": str(port), "STAMPEDE_NICE": str(nice[pool])}
            sections.append(render(replica, {**escaped, **own}))
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
    conf = str(config_file(run_dir))
    subprocess.run([sys.executable, "-m", "supervisor.supervisord", "-c", conf], cwd=HERE.parent, env=env, check=True)


def ctl(run_dir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    """Run supervisorctl against this run folder's supervisord (status, pid NAME, restart web:*...)."""
    command = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(config_file(run_dir)), *args]
    return subprocess.run(command, capture_output=capture, text=True)


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
    if not wait_until(lambda: running_pid(run_dir) != pid, SHUTDOWN_SECONDS, interval=0.2):
        log = run_dir / "logs" / "supervisord.log"
        raise SystemExit(f"supervisord (pid {pid}) has not stopped the stack in {SHUTDOWN_SECONDS} s; see {log}")
    return True
