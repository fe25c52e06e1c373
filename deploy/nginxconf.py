"""nginx for `make stack`: its config rendered from the compose template, and replicas drained for a restart.

Each pool's servers live in a file of their own (upstream-web.conf, upstream-checkout.conf),
included in the template's upstream blocks, so a rolling restart (``Stack.restart``)
can mark one replica ``down`` and reload nginx without rendering anything else.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from deploy.rendering import render

TEMPLATES = Path(__file__).resolve().parent / "nginx"
POOL_FILES = {"web": "upstream-web.conf", "checkout": "upstream-checkout.conf"}


def upstream_servers(ports: list[int], *, max_conns: int | None = None) -> str:
    cap = f" max_conns={max_conns}" if max_conns else ""
    return "\n".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s{cap};" for port in ports) + "\n"


def write_config(run_dir: Path, pools: dict[str, list[int]], *, replica_slots: int, values: dict[str, str]) -> Path:
    """Render nginx.conf and stampede.conf into ``run_dir``, check them with ``nginx -t``; the main config's path.

    A browsing replica is sent at most ``replica_slots`` requests at once (its threads): the rest
    are answered by nginx at once (a stale page, or the busy page), never queued in gunicorn.
    """
    nginx_dir = run_dir / "nginx"
    for sub in ("cache", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    servers = {
        "web": upstream_servers(pools["web"], max_conns=replica_slots),
        "checkout": upstream_servers(pools["checkout"] or pools["web"]),
    }
    for pool, text in servers.items():
        (run_dir / POOL_FILES[pool]).write_text(text)
    values = {
        **values,
        "STAMPEDE_CACHE_DIR": str(nginx_dir / "cache"),
        "STAMPEDE_RUN_DIR": str(run_dir),
        **{
            f"STAMPEDE_{'UPSTREAM' if pool == 'web' else 'CHECKOUT'}_SERVERS": f"include {run_dir / name};"
            for pool, name in POOL_FILES.items()
        },
    }
    (run_dir / "stampede.conf").write_text(render((TEMPLATES / "stampede.conf.template").read_text(), values))
    main = run_dir / "nginx.conf"
    main.write_text(render((TEMPLATES / "nginx.local.conf.template").read_text(), values))
    check(run_dir)
    return main


def empty_cache(run_dir: Path) -> None:
    """A new stack starts with an empty microcache."""
    shutil.rmtree(run_dir / "nginx" / "cache", ignore_errors=True)


def check(run_dir: Path) -> None:
    subprocess.run(["nginx", "-t", "-q", "-p", str(run_dir), "-c", str(run_dir / "nginx.conf")], check=True)


def set_draining(run_dir: Path, port: int, draining: bool) -> None:
    """Mark the replica on ``port`` down (nginx sends it nothing new) or back up, in every pool that lists it."""
    server = re.compile(rf"^(server 127\.0\.0\.1:{port} [^;]*?)( down)?;$", re.MULTILINE)
    for name in POOL_FILES.values():
        path = run_dir / name
        path.write_text(server.sub(lambda match: f"{match[1]}{' down' if draining else ''};", path.read_text()))
    check(run_dir)
