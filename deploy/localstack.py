"""`make stack`: the compose topology on this machine, without Docker.

nginx (Debian's) on 127.0.0.1:8080 in front of two pools of gunicorn replicas: N for
browsing (catalog, product and search pages) and M for cart, checkout, order pages and
the admin, so buying never waits behind browsing. A Celery worker and beat run beside
them, against the local PostgreSQL and Redis. supervisord (deploy/supervisord.py) runs
every one of them, starts again any that dies, and at `down` stops them all, then itself:
exactly what `up` started.

On one machine the pools share its cores: the browsing replicas run at a lower CPU
priority (nice), as compose's cpu_shares and Kubernetes' CPU requests give each pool its
own share, so a flood of page views cannot take the CPU that checkout needs. With
`--checkout 0` the web replicas serve everything (the 2023 configuration of make loadtest).

    python deploy/localstack.py up --web 2 --checkout 1
    python deploy/localstack.py ctl status          # supervisorctl: pid web:web-1, restart worker...
    python deploy/localstack.py down
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import supervisord
from rendering import render

ROOT = Path(__file__).resolve().parent.parent
# Overridable so the end-to-end tests run a stack of their own beside a developer's.
RUN_DIR = Path(os.environ.get("STACK_RUN_DIR", ROOT / "var" / "stack")).resolve()
PORT = os.environ.get("STACK_PORT", "8080")
FIRST_PORTS = {"web": 8101, "checkout": 8201}
# Or each pool's ports one by one (STACK_WEB_PORTS, STACK_CHECKOUT_PORTS), for callers that picked free ports.
EXPLICIT_PORTS = {pool: [int(port) for port in os.environ.get(f"STACK_{pool.upper()}_PORTS", "").split(",") if port]
                  for pool in FIRST_PORTS}
# How much less the browsing replicas are scheduled than checkout (nice, 0 to 19).
WEB_NICE = int(os.environ.get("STACK_WEB_NICE", 10))
WORKERS = os.environ.get("GUNICORN_WORKERS", "2")
THREADS = os.environ.get("GUNICORN_THREADS", "2")
WORKER_METRICS_PORT = os.environ.get("STACK_WORKER_METRICS_PORT", "9808")
# `make loadtest` runs the 2023 configuration through the same script: its settings module,
# and nginx without the microcache ("off" as nginx's proxy_cache value).
SETTINGS_MODULE = os.environ.get("STACK_SETTINGS_MODULE", "config.settings.production")
MICROCACHE = os.environ.get("STACK_MICROCACHE", "stampede_micro")
LOGS = RUN_DIR / "logs"
ENV_FILE = RUN_DIR / "stack.env"
PYTHON = sys.executable
# Settings passed through to the stack when set in the environment of `make stack`.
PASSTHROUGH = (
    "CACHE_KEY_PREFIX", "CELERY_TASK_DEFAULT_QUEUE", "SHOP_FAKE_PAYMENT_OUTCOME", "SHOP_FAKE_PAYMENT_DELAY_SECONDS",
    "METRICS_TOKEN", "ROOT_URLCONF",
)


def stack_settings() -> dict[str, str]:
    """The environment every process of the stack shares, also written to stack.env."""
    secret_file = RUN_DIR / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(50))
    passthrough = {name: os.environ[name] for name in PASSTHROUGH if name in os.environ}
    return {
        **passthrough,
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stampede"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
        # The room's state in a database of its own; this machine's Redis evicts nothing
        # (no maxmemory: noeviction), so cached pages can never push the queue out.
        "WAITINGROOM_REDIS_URL": os.environ.get("WAITINGROOM_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2"),
        "SECRET_KEY": secret_file.read_text().strip(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{PORT},http://localhost:{PORT}",
        "SHOP_BASE_URL": f"http://127.0.0.1:{PORT}",
        # Plain http on loopback: no TLS redirect, no HSTS, cookies without the Secure flag.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_COOKIES": "false",
        "SERVE_MEDIA": "true",
        "SHOP_DEMO_PAYMENTS": "true",  # the fake card processor, and checkout says so
        "TRUSTED_PROXY_COUNT": "1",  # nginx appends the client's address to X-Forwarded-For
        "STATIC_ROOT": str(ROOT / "staticfiles"),
        # Every message kept as a file, every charge in one ledger the whole stack shares:
        # what a customer would have been sent and charged can be read back (make loadtest).
        "EMAIL_URL": os.environ.get("EMAIL_URL", f"filemail:///{RUN_DIR.resolve() / 'mail'}"),
        "SHOP_FAKE_PAYMENT_LEDGER": os.environ.get("SHOP_FAKE_PAYMENT_LEDGER", str(RUN_DIR / "payments.sqlite3")),
    }


def write_env_file(settings: dict[str, str]) -> None:
    lines = ["# Written by `make stack`: the stack's settings. `make manage` reads this file."]
    lines += [f"{name}={value}" for name, value in settings.items()]
    ENV_FILE.write_text("\n".join(lines) + "\n")


def process_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "ENV_FILE": str(ENV_FILE), **(extra or {})}


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=process_env(), check=True)


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    match = re.match(r"postgres(?:ql)?://(?P<rest>.*)/(?P<name>[^/?]+)", url)
    if not match:
        return
    admin_url = f"postgresql://{match['rest']}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [match["name"]]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(match["name"])))


def pool_ports(pool: str, count: int) -> list[int]:
    explicit = EXPLICIT_PORTS[pool]
    if explicit:
        if len(explicit) < count:
            raise SystemExit(f"STACK_{pool.upper()}_PORTS names {len(explicit)} ports for {count} replicas")
        return explicit[:count]
    return [FIRST_PORTS[pool] + index for index in range(count)]


def upstream_servers(ports: list[int], *, max_conns: int | None = None) -> str:
    cap = f" max_conns={max_conns}" if max_conns else ""
    return " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s{cap};" for port in ports)


def write_nginx_config(pools: dict[str, list[int]]) -> None:
    nginx_dir = RUN_DIR / "nginx"
    shutil.rmtree(nginx_dir / "cache", ignore_errors=True)  # a new stack starts with an empty microcache
    for sub in ("cache", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    # A browsing replica is sent at most as many requests as it has threads: the rest are
    # answered by nginx at once (a stale page, or the busy page), never queued in gunicorn.
    slots = int(WORKERS) * int(THREADS)
    values = {
        "STAMPEDE_UPSTREAM_SERVERS": upstream_servers(pools["web"], max_conns=slots),
        "STAMPEDE_CHECKOUT_SERVERS": upstream_servers(pools["checkout"] or pools["web"]),
        "STAMPEDE_RESOLVER": "",
        "STAMPEDE_STATIC_ROOT": str(ROOT / "staticfiles"),
        "STAMPEDE_CACHE_DIR": str(nginx_dir / "cache"),
        "STAMPEDE_LISTEN": f"127.0.0.1:{PORT}",
        "STAMPEDE_ERROR_PAGES": str(ROOT / "deploy" / "nginx" / "errors"),
        "STAMPEDE_RUN_DIR": str(RUN_DIR),
        "STAMPEDE_MICROCACHE": MICROCACHE,
        "STAMPEDE_PAGE_CACHE_KEYS": str(ROOT / "deploy" / "nginx" / "page-cache-keys.conf"),
        # As root, nginx's workers would run as nobody, who cannot write our cache folder.
        "STAMPEDE_USER": "user root;" if os.geteuid() == 0 else "",
    }
    (RUN_DIR / "stampede.conf").write_text(render((ROOT / "deploy/nginx/stampede.conf.template").read_text(), values))
    main = RUN_DIR / "nginx.conf"
    main.write_text(render((ROOT / "deploy/nginx/nginx.local.conf.template").read_text(), values))
    subprocess.run(["nginx", "-t", "-q", "-p", str(RUN_DIR), "-c", str(main)], check=True)


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


def up(web_count: int, checkout_count: int) -> int:
    if supervisord.running_pid(RUN_DIR):
        down()
    for folder in (LOGS, RUN_DIR / "metrics"):
        folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("nginx") is None:
        print("nginx is not installed: apt-get install -y nginx", file=sys.stderr)
        return 1
    settings = stack_settings()
    write_env_file(settings)
    ensure_database(settings["DATABASE_URL"])
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("seed_catalog")
    pools = {"web": pool_ports("web", web_count), "checkout": pool_ports("checkout", checkout_count)}
    worker_metrics = RUN_DIR / "metrics" / "worker"
    shutil.rmtree(worker_metrics, ignore_errors=True)
    worker_metrics.mkdir(parents=True)
    write_nginx_config(pools)
    supervisord.write_config(RUN_DIR, pools=pools, nice={"web": WEB_NICE, "checkout": 0}, values={
        "STAMPEDE_ROOT": str(ROOT), "STAMPEDE_RUN_DIR": str(RUN_DIR), "STAMPEDE_PYTHON": PYTHON,
        "STAMPEDE_WORKERS": WORKERS, "STAMPEDE_THREADS": THREADS, "STAMPEDE_WORKER_METRICS_PORT": WORKER_METRICS_PORT,
    })
    supervisord.start(RUN_DIR, process_env())

    replicas = [f"http://127.0.0.1:{port}/readyz" for ports in pools.values() for port in ports]
    if not wait_until_up([*replicas, f"http://127.0.0.1:{PORT}/healthz"]):
        print(f"The stack did not come up; see {LOGS}", file=sys.stderr)
        down()
        return 1
    describe(pools)
    print(f"Stampede is up at http://127.0.0.1:{PORT}/ ({web_count} web and {checkout_count} checkout replicas,"
          " worker, beat, nginx).")
    print("Stop it with `make stack-down`; run management commands with `make manage ARGS=...`.")
    return 0


def describe(pools: dict[str, list[int]]) -> None:
    """Write stack.json: where each part listens, for tools that watch a running stack (make loadtest)."""
    (RUN_DIR / "stack.json").write_text(json.dumps({
        "url": f"http://127.0.0.1:{PORT}",
        "web_ports": pools["web"],
        "checkout_ports": pools["checkout"],
        "worker_metrics_port": int(WORKER_METRICS_PORT),
        "settings_module": SETTINGS_MODULE,
        "env_file": str(ENV_FILE),
        "nginx_cache_dir": str(RUN_DIR / "nginx" / "cache"),
    }, indent=2))


def down() -> int:
    if supervisord.shutdown(RUN_DIR):
        print("Stopped the stack: supervisord and every process it ran.")
    return 0


def ctl(args: list[str]) -> int:
    if supervisord.running_pid(RUN_DIR) is None:
        print(f"No stack runs from {RUN_DIR}.", file=sys.stderr)
        return 1
    return supervisord.ctl(RUN_DIR, *args).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start the stack and return once it answers")
    up_parser.add_argument("--web", type=int, default=int(os.environ.get("WEB", 2)), help="browsing replicas")
    up_parser.add_argument("--checkout", type=int, default=int(os.environ.get("CHECKOUT", 1)),
                           help="cart and checkout replicas (0: the web replicas serve them)")
    commands.add_parser("down", help="stop exactly what `up` started")
    ctl_parser = commands.add_parser("ctl", help="supervisorctl against the running stack (default: status)")
    ctl_parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "ctl":
        return ctl(args.args or ["status"])
    return up(args.web, args.checkout) if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
