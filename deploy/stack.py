"""`make stack`: the compose topology on this machine, without Docker, as one object.

nginx (Debian's) in front of two pools of gunicorn replicas: ``web`` for browsing (catalog,
product and search pages) and ``checkout`` for cart, checkout, order pages and the admin, so
buying never waits behind browsing. A Celery worker and beat run beside them, against the local
PostgreSQL and Redis. supervisord (deploy/supervisord.py) runs every one of them, starts again
any that dies, and at ``down`` stops them all, then itself: exactly what ``up`` started.

On one machine the pools share its cores: the browsing replicas run at a lower CPU priority
(nice), as compose's cpu_shares and Kubernetes' CPU requests give each pool its own share, so
a flood of page views cannot take the CPU that checkout needs. With ``checkout=0`` the web
replicas serve everything (the 2023 configuration of make loadtest).

    python -m deploy.stack up --web 2 --checkout 1   # make stack: 127.0.0.1:8080, var/stack
    python -m deploy.stack ctl status                # supervisorctl: pid web:web-1, restart worker...
    python -m deploy.stack restart                   # every replica in turn, none losing a request
    python -m deploy.stack manage waitingroom on     # a management command against it
    python -m deploy.stack down

    with Stack.isolated("bench-1", web=1) as stack:  # free ports, its own database and keys
        ...                                          # stack.url is nginx; dropped and forgotten at the end

Everything a stack is made of is read here, once, from its environment (``STACK_*`` and the
shop's own settings), so `make stack`, `make bench`, `make loadtest`, `make chaos` and the
end-to-end tests run the same thing. A running stack describes itself in its run folder
(stack.json), which ``Stack.running`` reads: a second implementation of the same topology
(compose) can stand beside this one behind the same methods.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg
import redis
from psycopg import sql

from deploy import nginxconf, readiness, supervisord
from resilience.defaults import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FIRST_PORTS = {"web": 8101, "checkout": 8201}  # make stack's replicas; an isolated stack takes free ports
# The local Redis's databases: the page cache, the broker, and the room's state in one of its
# own; this machine's Redis evicts nothing (noeviction), so cached pages never push the queue out.
REDIS_URLS = {
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    "WAITINGROOM_REDIS_URL": "redis://127.0.0.1:6379/3",
}
# Settings passed through to the stack's settings file (stack.env) when set in its environment.
PASSTHROUGH = (
    "CACHE_KEY_PREFIX",
    "CELERY_TASK_DEFAULT_QUEUE",
    "SHOP_FAKE_PAYMENT_OUTCOME",
    "SHOP_FAKE_PAYMENT_DELAY_SECONDS",
    "METRICS_TOKEN",
    "ROOT_URLCONF",
)
# Like Kubernetes' preStop pause (k8s/web.yaml): nginx sends a replica nothing new and its old
# workers finish what they sent, before gunicorn is told to stop.
DRAIN_SECONDS = 5
# Each of the stack's processes reads the room's configuration this often: a change is everywhere after it.
ROOM_CHANGE_SECONDS = float(DEFAULTS["WAITINGROOM_CONFIG_REFRESH_SECONDS"]) + 0.5


class StackError(Exception):
    """The stack did not come up, or a replica did not come back."""


class NoSuchReplica(StackError):
    pass


class CommandFailed(StackError):
    """A command run inside the stack's settings (a management command) failed; what it said."""


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """nginx, ``web`` browsing and ``checkout`` buying replicas, a worker and beat, under supervisord."""

    def __init__(self, env: Mapping[str, str] | None = None, *, web: int = 2, checkout: int = 1) -> None:
        self.env = dict(os.environ if env is None else env)
        self.env.pop("DJANGO_SETTINGS_MODULE", None)  # a caller's (the tests') never reaches the stack
        read = self.env.get
        self.run_dir = Path(read("STACK_RUN_DIR", ROOT / "var" / "stack")).resolve()
        self.port = int(read("STACK_PORT", 8080))
        self.web_ports = self._ports("web", web)
        self.checkout_ports = self._ports("checkout", checkout)
        self.worker_metrics_port = int(read("STACK_WORKER_METRICS_PORT", 9808))
        # How much less the browsing replicas are scheduled than checkout (nice, 0 to 19).
        self.web_nice = int(read("STACK_WEB_NICE", 10))
        self.workers = int(read("GUNICORN_WORKERS", 2))
        self.threads = int(read("GUNICORN_THREADS", 2))
        # make loadtest's 2023 configuration: its settings module, and nginx without the
        # microcache ("off" as nginx's proxy_cache value).
        self.settings_module = read("STACK_SETTINGS_MODULE", "config.settings.production")
        self.microcache = read("STACK_MICROCACHE", "stampede_micro")
        self.database_url = read("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stampede")
        self.redis_urls = {name: read(name, default) for name, default in REDIS_URLS.items()}
        self.cache_prefix = read("CACHE_KEY_PREFIX", "stampede")
        self.env_file = self.run_dir / "stack.env"
        self.logs = self.run_dir / "logs"
        self.nginx_cache_dir = self.run_dir / "nginx" / "cache"

    @classmethod
    def isolated(
        cls,
        name: str,
        *,
        web: int,
        checkout: int = 1,
        env: Mapping[str, str] | None = None,
        run_dir: Path | None = None,
    ) -> Stack:
        """A stack beside any other on this machine: free ports, database ``stampede_<name>``, keys
        and Celery queue under ``stampede-<name>``; ``with`` it to drop and forget them at the end."""
        prefix = f"stampede-{name}"
        overrides = {
            "STACK_RUN_DIR": str(run_dir or ROOT / "var" / "stacks" / name),
            "STACK_PORT": str(free_port()),
            "STACK_WEB_PORTS": ",".join(str(free_port()) for _ in range(web)),
            "STACK_CHECKOUT_PORTS": ",".join(str(free_port()) for _ in range(checkout)),
            "STACK_WORKER_METRICS_PORT": str(free_port()),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/stampede_{name.replace('-', '_')}",
            "CACHE_KEY_PREFIX": prefix,
            "CELERY_TASK_DEFAULT_QUEUE": prefix,
        }
        return cls({**os.environ, **overrides, **(env or {})}, web=web, checkout=checkout)

    @classmethod
    def running(cls, run_dir: Path | str | None = None) -> Stack:
        """The stack running from ``run_dir`` (make stack's by default), as its stack.json describes it."""
        folder = Path(run_dir or os.environ.get("STACK_RUN_DIR", ROOT / "var" / "stack")).resolve()
        described = json.loads((folder / "stack.json").read_text())
        return cls(
            {**os.environ, **described.get("env", {})},
            web=len(described["web_ports"]),
            checkout=len(described["checkout_ports"]),
        )

    def _ports(self, pool: str, count: int) -> list[int]:
        named = [int(port) for port in self.env.get(f"STACK_{pool.upper()}_PORTS", "").split(",") if port]
        if not named:
            return [FIRST_PORTS[pool] + index for index in range(count)]
        if len(named) < count:
            raise StackError(f"STACK_{pool.upper()}_PORTS names {len(named)} ports for {count} replicas")
        return named[:count]

    # Where it answers.
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.web_ports]

    @property
    def checkout_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.checkout_ports]

    @property
    def database(self) -> str:
        return self.database_url.rsplit("/", 1)[1].split("?")[0]

    def _server(self) -> str:
        """The database server's maintenance database, where databases are made and dropped."""
        server = self.database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1)
        return f"{server}/postgres"

    @property
    def browsing_slots(self) -> int:
        """Requests nginx sends the browsing pool at once: each replica's threads (its max_conns)."""
        return len(self.web_ports) * self.workers * self.threads

    # Starting and stopping.
    def __enter__(self) -> Stack:
        try:
            self.up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.down()
        finally:
            self.flush()

    def up(self) -> None:
        """Start every part and return once each answers; raise StackError, the logs' ends in it, if not."""
        if supervisord.running_pid(self.run_dir):
            self.down()
        if shutil.which("nginx") is None:
            raise StackError("nginx is not installed: `make system-packages` installs it")
        for folder in (self.logs, self.run_dir / "metrics"):
            folder.mkdir(parents=True, exist_ok=True)
        self._write_settings()
        self._ensure_database()
        # Setting up may wait for PostgreSQL as a deploy's migrate job does; serving keeps its 2 s
        # (make test failed once on a migrate refused at 2 s while the suite dropped databases).
        patient = {"DB_CONNECT_TIMEOUT": "15"}
        self.manage("migrate", "--noinput", "-v", "0", extra_env=patient)
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage("seed_catalog", extra_env=patient)
        worker_metrics = self.run_dir / "metrics" / "worker"
        shutil.rmtree(worker_metrics, ignore_errors=True)
        worker_metrics.mkdir(parents=True)
        nginxconf.empty_cache(self.run_dir)
        self._write_nginx_config()
        supervisord.write_config(
            self.run_dir,
            pools=self.pools,
            nice={"web": self.web_nice, "checkout": 0},
            values={
                "STAMPEDE_ROOT": str(ROOT),
                "STAMPEDE_RUN_DIR": str(self.run_dir),
                "STAMPEDE_PYTHON": sys.executable,
                "STAMPEDE_WORKERS": str(self.workers),
                "STAMPEDE_THREADS": str(self.threads),
                "STAMPEDE_WORKER_METRICS_PORT": str(self.worker_metrics_port),
            },
        )
        supervisord.start(self.run_dir, self.process_env())
        replicas = [f"{url}/readyz" for url in [*self.replica_urls, *self.checkout_urls]]
        if not readiness.wait_until_up([*replicas, f"{self.url}/healthz"]):
            self.down()
            raise StackError(f"The stack did not come up; see {self.logs}{self.log_tails()}")
        self._describe()

    def down(self) -> bool:
        """Stop supervisord and every process it runs; False if none ran from this run folder."""
        return supervisord.shutdown(self.run_dir)

    def flush(self) -> None:
        """Forget an isolated stack: drop its database and delete its keys (cache, room, Celery queue)."""
        # Straight to the local server: an isolated stack may reach it through a fault proxy (make chaos).
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database)))
        for url in {self.redis_urls["REDIS_URL"], self.redis_urls["WAITINGROOM_REDIS_URL"]}:
            store = redis.Redis.from_url(url)
            for key in store.scan_iter(match=f"{self.cache_prefix}:*", count=1000):
                store.delete(key)
        queue = self.env.get("CELERY_TASK_DEFAULT_QUEUE", "stampede")
        redis.Redis.from_url(self.redis_urls["CELERY_BROKER_URL"]).delete(queue, f"_kombu.binding.{queue}")

    def restart(self, *programs: str) -> list[str]:
        """Replace replicas one at a time (all, or those named: web:web-1 ...), each drained from nginx first.

        gunicorn's graceful stop finishes the requests it has, but closes its idle keep-alive
        connections: a request nginx sent on one at that moment fails, and nginx rightly does not
        resend a POST. Drained first, the replica has no such connection left when it stops.
        A pool of one replica cannot be drained (nothing else would answer): it restarts as it is.
        Returns what was done, a line for each replica.
        """
        done = []
        replicas = [
            (pool, f"{pool}:{pool}-{index}", port)
            for pool, ports in self.pools.items()
            for index, port in enumerate(ports, 1)
        ]
        unknown = set(programs) - {program for _, program, _ in replicas}
        if unknown:
            raise NoSuchReplica(f"No such replica: {', '.join(sorted(unknown))}")
        for pool, program, port in replicas:
            if programs and program not in programs:
                continue
            drained = len(self.pools[pool]) > 1
            try:
                if drained:
                    self._drain(port, True)
                    time.sleep(DRAIN_SECONDS)
                self.ctl("restart", program)
                if not readiness.wait_until_up([f"http://127.0.0.1:{port}/readyz"]):
                    raise StackError(f"{program} did not come back; see {self.logs}")
            finally:
                if drained:  # back in the pools even if it failed: supervisord goes on starting it
                    self._drain(port, False)
            done.append(f"Restarted {program}" + ("" if drained else " (alone in its pool: not drained)"))
        return done

    # Asking it things.
    def ctl(self, *args: str) -> str:
        """supervisorctl against this stack (status, pid NAME, restart web:*...); what it printed."""
        return supervisord.ctl(self.run_dir, *args, capture=True).stdout.strip()

    def pid(self, program: str) -> int:
        """The PID supervisord reports for a program (web:web-1, checkout:checkout-1, worker); 0 while it is down."""
        answer = self.ctl("pid", program)
        return int(answer) if answer.isdigit() else 0

    def python(self, *args: str, capture: bool = True, extra_env: Mapping[str, str] | None = None) -> str:
        """Run Python (a script, ``-m module``) inside the stack's settings; what it printed (if captured)."""
        done = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.process_env({"PYTHONPATH": str(ROOT), **(extra_env or {})}),
            capture_output=capture,
            text=True,
        )
        if done.returncode:
            said = f":\n{done.stdout}{done.stderr}" if capture else ""
            raise CommandFailed(f"`python {' '.join(args)}` exited with {done.returncode}{said}")
        return done.stdout if capture else ""

    def manage(self, *args: str, capture: bool = True, extra_env: Mapping[str, str] | None = None) -> str:
        """Run a management command against this stack (`make manage`); what it printed."""
        return self.python("manage.py", *args, capture=capture, extra_env=extra_env)

    def waitingroom(self, *args: str) -> str:
        """`manage.py waitingroom ...`, returning once every process of the stack has read the change."""
        said = self.manage("waitingroom", *args)
        time.sleep(ROOM_CHANGE_SECONDS)
        return said

    def empty_caches(self) -> int:
        """Empty the page caches, as a cold start would: Redis's entries and nginx's microcache.

        The room's state is kept (it is not a cache). Each process's own memory tier empties
        itself: its keys carry the namespace version, deleted here, so every process computes
        pages anew within CACHE_VERSION_LOCAL_SECONDS. Returns the keys deleted.
        """
        cache = redis.Redis.from_url(self.redis_urls["REDIS_URL"])
        room = f"{self.cache_prefix}:waitingroom:"
        keys = cache.scan_iter(match=f"{self.cache_prefix}:*", count=1000)
        doomed = [key for key in keys if not key.decode().startswith(room)]
        for start in range(0, len(doomed), 500):
            cache.delete(*doomed[start : start + 500])
        for entry in self.nginx_cache_dir.iterdir():
            shutil.rmtree(entry, ignore_errors=True)
        return len(doomed)

    def log_tails(self, lines: int = 15) -> str:
        """The end of every log the stack wrote, to explain a stack that did not come up."""
        return "".join(
            f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.logs.glob("*.log"))
        )

    def process_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of the stack's processes: its own, its settings module and file."""
        return {
            **self.env,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "ENV_FILE": str(self.env_file),
            **(extra or {}),
        }

    @property
    def pools(self) -> dict[str, list[int]]:
        return {"web": self.web_ports, "checkout": self.checkout_ports}

    # What up writes.
    def _write_settings(self) -> None:
        """stack.env: the settings every process shares (and `make manage` reads)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        secret_file = self.run_dir / "secret_key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(50))
        settings = {
            **{name: self.env[name] for name in PASSTHROUGH if name in self.env},
            "DATABASE_URL": self.database_url,
            **self.redis_urls,
            "SECRET_KEY": secret_file.read_text().strip(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": f"{self.url},http://localhost:{self.port}",
            "SHOP_BASE_URL": self.url,
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
            "EMAIL_URL": self.env.get("EMAIL_URL", f"filemail:///{self.run_dir / 'mail'}"),
            "SHOP_FAKE_PAYMENT_LEDGER": self.env.get(
                "SHOP_FAKE_PAYMENT_LEDGER", str(self.run_dir / "payments.sqlite3")
            ),
        }
        lines = ["# Written by `make stack`: the stack's settings. `make manage` reads this file."]
        self.env_file.write_text("\n".join([*lines, *(f"{name}={value}" for name, value in settings.items())]) + "\n")

    def _ensure_database(self) -> None:
        with psycopg.connect(self._server(), autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _write_nginx_config(self) -> None:
        nginxconf.write_config(
            self.run_dir,
            self.pools,
            replica_slots=self.workers * self.threads,
            values={
                "STAMPEDE_RESOLVER": "",
                "STAMPEDE_STATIC_ROOT": str(ROOT / "staticfiles"),
                "STAMPEDE_LISTEN": f"127.0.0.1:{self.port}",
                "STAMPEDE_ERROR_PAGES": str(ROOT / "deploy" / "nginx" / "errors"),
                "STAMPEDE_MICROCACHE": self.microcache,
                "STAMPEDE_PAGE_CACHE_KEYS": str(ROOT / "deploy" / "nginx" / "page-cache-keys.conf"),
                # As root, nginx's workers would run as nobody, who cannot write our cache folder.
                "STAMPEDE_USER": "user root;" if os.geteuid() == 0 else "",
            },
        )

    def _describe(self) -> None:
        """stack.json: what ``Stack.running`` (make loadtest --against, make manage) reads of it."""
        own = {name: self.env[name] for name in self.env if name.startswith("STACK_") or name in PASSTHROUGH}
        described = {
            "url": self.url,
            "web_ports": self.web_ports,
            "checkout_ports": self.checkout_ports,
            "env": {
                **own,
                "STACK_RUN_DIR": str(self.run_dir),
                "STACK_PORT": str(self.port),
                "STACK_WEB_PORTS": ",".join(map(str, self.web_ports)),
                "STACK_CHECKOUT_PORTS": ",".join(map(str, self.checkout_ports)),
                "STACK_WORKER_METRICS_PORT": str(self.worker_metrics_port),
                "STACK_SETTINGS_MODULE": self.settings_module,
                "DATABASE_URL": self.database_url,
                "CACHE_KEY_PREFIX": self.cache_prefix,
                "GUNICORN_WORKERS": str(self.workers),
                "GUNICORN_THREADS": str(self.threads),
                **self.redis_urls,
            },
        }
        (self.run_dir / "stack.json").write_text(json.dumps(described, indent=2))

    def _drain(self, port: int, draining: bool) -> None:
        nginxconf.set_draining(self.run_dir, port, draining)
        self.ctl("signal", "HUP", "nginx")  # a graceful reload


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
    manage_parser = commands.add_parser("manage", help="a management command against the running stack")
    manage_parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    try:
        if args.command == "up":
            stack = Stack(web=args.web, checkout=args.checkout)
            stack.up()
            print(
                f"Stampede is up at {stack.url}/ ({args.web} web and {args.checkout} checkout replicas,"
                " worker, beat, nginx)."
            )
            print("Stop it with `make stack-down`; run management commands with `make manage ARGS=...`.")
            return 0
        if args.command == "down":
            if Stack().down():
                print("Stopped the stack: supervisord and every process it ran.")
            return 0
        stack = Stack.running()
        if args.command == "manage":
            stack.manage(*args.args, capture=False)
        elif args.command == "restart":
            for line in stack.restart(*args.programs):
                print(line, flush=True)
        else:  # supervisorctl's own output and exit status
            return supervisord.ctl(stack.run_dir, *(args.args or ["status"])).returncode
    except StackError as error:
        print(error, file=sys.stderr)
        return 2 if isinstance(error, NoSuchReplica) else 1
    except FileNotFoundError:
        print("No stack runs here: `make stack` starts one.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
