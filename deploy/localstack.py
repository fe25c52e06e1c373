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
    python deploy/localstack.py restart             # every replica in turn, none losing a request
    python deploy/localstack.py down

Its settings come from the environment in stacksettings.py; nginx's config is nginxconf.py's,
the rolling restart rolling.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import nginxconf
import readiness
import rolling
import supervisord
from stacksettings import (
    ENV_FILE,
    LOGS,
    MICROCACHE,
    PORT,
    PYTHON,
    REPLICA_SLOTS,
    ROOT,
    RUN_DIR,
    SETTINGS_MODULE,
    THREADS,
    WEB_NICE,
    WORKER_METRICS_PORT,
    WORKERS,
    pool_ports,
    process_env,
    stack_settings,
    write_env_file,
)


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


def write_nginx_config(pools: dict[str, list[int]]) -> None:
    nginxconf.write_config(
        RUN_DIR,
        pools,
        replica_slots=REPLICA_SLOTS,
        values={
            "STAMPEDE_RESOLVER": "",
            "STAMPEDE_STATIC_ROOT": str(ROOT / "staticfiles"),
            "STAMPEDE_LISTEN": f"127.0.0.1:{PORT}",
            "STAMPEDE_ERROR_PAGES": str(ROOT / "deploy" / "nginx" / "errors"),
            "STAMPEDE_MICROCACHE": MICROCACHE,
            "STAMPEDE_PAGE_CACHE_KEYS": str(ROOT / "deploy" / "nginx" / "page-cache-keys.conf"),
            # As root, nginx's workers would run as nobody, who cannot write our cache folder.
            "STAMPEDE_USER": "user root;" if os.geteuid() == 0 else "",
        },
    )


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
    nginxconf.empty_cache(RUN_DIR)
    write_nginx_config(pools)
    supervisord.write_config(
        RUN_DIR,
        pools=pools,
        nice={"web": WEB_NICE, "checkout": 0},
        values={
            "STAMPEDE_ROOT": str(ROOT),
            "STAMPEDE_RUN_DIR": str(RUN_DIR),
            "STAMPEDE_PYTHON": PYTHON,
            "STAMPEDE_WORKERS": WORKERS,
            "STAMPEDE_THREADS": THREADS,
            "STAMPEDE_WORKER_METRICS_PORT": WORKER_METRICS_PORT,
        },
    )
    supervisord.start(RUN_DIR, process_env())

    replicas = [f"http://127.0.0.1:{port}/readyz" for ports in pools.values() for port in ports]
    if not readiness.wait_until_up([*replicas, f"http://127.0.0.1:{PORT}/healthz"]):
        print(f"The stack did not come up; see {LOGS}", file=sys.stderr)
        down()
        return 1
    describe(pools)
    print(
        f"Stampede is up at http://127.0.0.1:{PORT}/ ({web_count} web and {checkout_count} checkout replicas,"
        " worker, beat, nginx)."
    )
    print("Stop it with `make stack-down`; run management commands with `make manage ARGS=...`.")
    return 0


def describe(pools: dict[str, list[int]]) -> None:
    """Write stack.json: where each part listens, for tools that watch a running stack (make loadtest)."""
    (RUN_DIR / "stack.json").write_text(
        json.dumps(
            {
                "url": f"http://127.0.0.1:{PORT}",
                "web_ports": pools["web"],
                "checkout_ports": pools["checkout"],
                "worker_metrics_port": int(WORKER_METRICS_PORT),
                "browsing_slots": len(pools["web"]) * REPLICA_SLOTS,  # requests nginx sends the browsing pool at once
                "settings_module": SETTINGS_MODULE,
                "env_file": str(ENV_FILE),
                "nginx_cache_dir": str(RUN_DIR / "nginx" / "cache"),
            },
            indent=2,
        )
    )


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
    up_parser.add_argument(
        "--checkout",
        type=int,
        default=int(os.environ.get("CHECKOUT", 1)),
        help="cart and checkout replicas (0: the web replicas serve them)",
    )
    commands.add_parser("down", help="stop exactly what `up` started")
    restart_parser = commands.add_parser("restart", help="replace the replicas one at a time, each drained first")
    restart_parser.add_argument("programs", nargs="*", help="only these (web:web-1 ...); default: every replica")
    ctl_parser = commands.add_parser("ctl", help="supervisorctl against the running stack (default: status)")
    ctl_parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "ctl":
        return ctl(args.args or ["status"])
    if args.command == "restart":
        return rolling.restart(args.programs)
    return up(args.web, args.checkout) if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
