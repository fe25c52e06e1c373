"""The load balancer in front of a compose stack, as a shop's cloud balancer is: nginx on loopback.

A port compose publishes, reached from this machine, goes through Docker's userland proxy, which
connects to the container from the network's gateway: the compose nginx sees every visitor as
one address, and its per-address limits and the waiting room see one visitor. In production
visitors come through a balancer that puts their address in X-Forwarded-For. This one does that
for the load tests' visitors (each from an address of its own, 127.x.y.z), and the compose nginx
believes it from the gateway only (NGINX_REAL_IP_FROM, ``ComposeStack.isolated(balanced=True)``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from deploy.readiness import answers, stop_process, wait_until
from deploy.stack import StackError, free_port

CONFIG = """\
worker_processes 1;
worker_rlimit_nofile 65536;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{user}
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_max_body_size 10m;
{temp_paths}
    upstream shop {{
        server 127.0.0.1:{upstream};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://shop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # The connection's own address: whatever the client claimed is dropped.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 60s;
            proxy_next_upstream off;
        }}
    }}
}}
"""


class Balancer:
    """nginx on 127.0.0.1 passing everything to ``upstream`` (a published port), with the visitor's address."""

    def __init__(self, folder: Path, *, upstream: int) -> None:
        self.folder, self.upstream, self.port = folder, upstream, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Balancer:
        nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        if nginx is None:
            raise StackError("nginx is not installed: `make system-packages` installs it")
        temp = {kind: self.folder / kind for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(parents=True, exist_ok=True)
        config = self.folder / "nginx.conf"
        config.write_text(
            CONFIG.format(
                folder=self.folder,
                user="user root;" if os.geteuid() == 0 else "",  # as make stack's nginx: its folders are root's
                temp_paths="\n".join(f"    {kind}_temp_path {path};" for kind, path in temp.items()),
                upstream=self.upstream,
                port=self.port,
            )
        )
        command = [nginx, "-p", str(self.folder), "-c", str(config), "-g", "daemon off;"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: answers(f"{self.url}/healthz"), timeout=30, interval=0.5):
            self.__exit__()
            raise StackError(f"The load balancer did not answer; see {self.folder / 'error.log'}")
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.process, timeout=10)
