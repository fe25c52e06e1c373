"""nginx for `make stack`: its config rendered from the compose template, and replicas drained for a restart.

Each pool's servers live in a file of their own (upstream-web.conf, upstream-checkout.conf), so a
rolling restart (``Stack.restart``) can mark one replica ``down`` and reload nginx, rendering nothing else.
"""

from __future__ import annotations

import os
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


def write_config(run_dir: Path, pools: dict[str, list[int]], *, max_conns: int, port: int, microcache: str) -> Path:
    """Render and check nginx.conf and stampede.conf in ``run_dir``, with an empty microcache; the main config.

    A browsing replica gets at most ``max_conns`` requests at once (its threads): nginx answers
    the rest at once (a stale page, the busy page), never queuing them in gunicorn.
    """
    nginx_dir = run_dir / "nginx"
    shutil.rmtree(nginx_dir / "cache", ignore_errors=True)
    for sub in ("cache", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    (run_dir / POOL_FILES["web"]).write_text(upstream_servers(pools["web"], max_conns=max_conns))
    (run_dir / POOL_FILES["checkout"]).write_text(upstream_servers(pools["checkout"] or pools["web"]))
    values = {
        "STAMPEDE_LISTEN": f"127.0.0.1:{port}",
        "STAMPEDE_MICROCACHE": microcache,
        "STAMPEDE_RESOLVER": "",
        "STAMPEDE_STATIC_ROOT": str(TEMPLATES.parent.parent / "staticfiles"),
        "STAMPEDE_ERROR_PAGES": str(TEMPLATES / "errors"),
        "STAMPEDE_PAGE_CACHE_KEYS": str(TEMPLATES / "page-cache-keys.conf"),
        # As root, nginx's workers would run as nobody, who cannot write our cache folder.
        "STAMPEDE_USER": "user root;" if os.geteuid() == 0 else "",
        "STAMPEDE_CACHE_DIR": str(nginx_dir / "cache"),
        "STAMPEDE_RUN_DIR": str(run_dir),
        "STAMPEDE_UPSTREAM_SERVERS": f"include {run_dir / POOL_FILES['web']};",
        "STAMPEDE_CHECKOUT_SERVERS": f"include {run_dir / POOL_FILES['checkout']};",
        "STAMPEDE_REAL_IP_FROM": "unix:",  # visitors reach it directly: no balancer to believe
    }
    (run_dir / "stampede.conf").write_text(render((TEMPLATES / "stampede.conf.template").read_text(), values))
    main = run_dir / "nginx.conf"
    main.write_text(render((TEMPLATES / "nginx.local.conf.template").read_text(), values))
    check(run_dir)
    return main


def check(run_dir: Path) -> None:
    subprocess.run(["nginx", "-t", "-q", "-p", str(run_dir), "-c", str(run_dir / "nginx.conf")], check=True)


def set_draining(run_dir: Path, port: int, draining: bool) -> None:
    """Mark the replica on ``port`` down (nginx sends it nothing new) or back up, in every pool that lists it."""
    server = re.compile(rf"^(server 127\.0\.0\.1:{port} [^;]*?)( down)?;$", re.MULTILINE)
    for name in POOL_FILES.values():
        path = run_dir / name
        path.write_text(server.sub(lambda match: f"{match[1]}{' down' if draining else ''};", path.read_text()))
    check(run_dir)
