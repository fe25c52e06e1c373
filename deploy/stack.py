"""`make stack`: the compose topology on this machine, without Docker, as one object.

nginx before two pools of gunicorn replicas (``web`` for browsing; ``checkout`` for cart, checkout,
orders and admin, unless ``checkout=0``), a Celery worker and beat, all under supervisord; the
browsing replicas run niced, as compose's cpu_shares give each pool its share. Read once from its
environment (``STACK_*``, the shop's settings), so every make target and the stack tests run the
same stack; stack.json describes a running one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
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
# The local Redis's databases (page cache, broker, room); it evicts nothing, so pages never push the queue out.
REDIS_URLS = {
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    "WAITINGROOM_REDIS_URL": "redis://127.0.0.1:6379/3",
}
# Settings passed through to the stack's settings file (stack.env) when set in its environment.
PASSTHROUGH = (
    "EMAIL_URL",
    "SHOP_FAKE_PAYMENT_LEDGER",
    "CACHE_KEY_PREFIX",
    "CELERY_TASK_DEFAULT_QUEUE",
    "SHOP_FAKE_PAYMENT_OUTCOME",
    "SHOP_FAKE_PAYMENT_DELAY_SECONDS",
    "METRICS_TOKEN",
    "ROOT_URLCONF",
)
# Like Kubernetes' preStop pause (k8s/web.yaml): a drained replica finishes what nginx sent it before it stops.
DRAIN_SECONDS = 5
# Each of the stack's processes reads the room's configuration this often: a change is everywhere after it.
ROOM_CHANGE_SECONDS = float(DEFAULTS["WAITINGROOM_CONFIG_REFRESH_SECONDS"]) + 0.5


class StackError(Exception):
    """The stack did not come up, a replica did not come back, or a command run in it failed (what it said)."""


class NoSuchReplica(StackError):
    pass


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
        # Every setting read here, defaults included: what stack.json records for ``Stack.running``.
        self._described = {name: self.env[name] for name in PASSTHROUGH if name in self.env}
        self.run_dir = Path(self._read("STACK_RUN_DIR", ROOT / "var" / "stack")).resolve()
        self._described["STACK_RUN_DIR"] = str(self.run_dir)
        self.port = int(self._read("STACK_PORT", 8080))
        self.web_ports = self._ports("web", web)
        self.checkout_ports = self._ports("checkout", checkout)
        self.worker_metrics_port = int(self._read("STACK_WORKER_METRICS_PORT", 9808))
        self.web_nice = int(self._read("STACK_WEB_NICE", 10))  # how much less browsing is scheduled (0 to 19)
        self.workers = int(self._read("GUNICORN_WORKERS", 2))
        self.threads = int(self._read("GUNICORN_THREADS", 2))
        # make loadtest's 2023 configuration: its settings module, and nginx's proxy_cache "off".
        self.settings_module = self._read("STACK_SETTINGS_MODULE", "config.settings.production")
        self.microcache = self._read("STACK_MICROCACHE", "stampede_micro")
        self.database_url = self._read("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stampede")
        self.redis_urls = {name: self._read(name, default) for name, default in REDIS_URLS.items()}
        self.cache_prefix = self._read("CACHE_KEY_PREFIX", "stampede")
        self.env_file = self.run_dir / "stack.env"
        self.logs = self.run_dir / "logs"

    def _read(self, name: str, default: object) -> str:
        self._described[name] = self.env.get(name, str(default))
        return self._described[name]

    def _ports(self, pool: str, count: int) -> list[int]:
        name = f"STACK_{pool.upper()}_PORTS"
        ports = [int(port) for port in self.env.get(name, "").split(",") if port]
        if not ports:
            ports = [FIRST_PORTS[pool] + index for index in range(count)]
        elif len(ports) < count:
            raise StackError(f"{name} names {len(ports)} ports for {count} replicas")
        self._described[name] = ",".join(map(str, ports[:count]))
        return ports[:count]

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
        web, checkout = len(described["web_ports"]), len(described["checkout_ports"])
        return cls({**os.environ, **described["env"]}, web=web, checkout=checkout)

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

    @property
    def browsing_slots(self) -> int:
        """Requests nginx sends the browsing pool at once: each replica's threads (its max_conns)."""
        return len(self.web_ports) * self.workers * self.threads

    @property
    def pools(self) -> dict[str, list[int]]:
        return {"web": self.web_ports, "checkout": self.checkout_ports}

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
        self.logs.mkdir(parents=True, exist_ok=True)
        self._write_settings()
        self._ensure_database()
        # Setting up may wait for PostgreSQL as a deploy's migrate job does; serving keeps its 2 s.
        patient = {"DB_CONNECT_TIMEOUT": "15"}
        self.manage("migrate", "--noinput", "-v", "0", extra_env=patient)
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage("seed_catalog", extra_env=patient)
        worker_metrics = self.run_dir / "metrics" / "worker"
        shutil.rmtree(worker_metrics, ignore_errors=True)
        worker_metrics.mkdir(parents=True)
        slots = self.workers * self.threads  # a browsing replica's threads
        nginxconf.write_config(self.run_dir, self.pools, max_conns=slots, port=self.port, microcache=self.microcache)
        supervisord.write_config(
            self.run_dir,
            pools=self.pools,
            nice={"web": self.web_nice, "checkout": 0},
            values={
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
        described = {"url": self.url, "web_ports": self.web_ports, "checkout_ports": self.checkout_ports}
        (self.run_dir / "stack.json").write_text(json.dumps({**described, "env": self._described}, indent=2))

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
        bindings = (f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")  # kombu's, per queue
        redis.Redis.from_url(self.redis_urls["CELERY_BROKER_URL"]).delete(queue, *bindings)

    def restart(self, *programs: str) -> list[str]:
        """Replace replicas one at a time (all, or those named: web:web-1 ...), each drained from nginx first.

        gunicorn's graceful stop closes its idle keep-alive connections, and a POST nginx sent on one
        at that moment fails unresent; a drained replica has none left. A pool of one cannot be drained.
        """
        done = []
        replicas = {  # program: its port, and whether its pool has another replica to answer meanwhile
            f"{pool}:{pool}-{index}": (port, len(ports) > 1)
            for pool, ports in self.pools.items()
            for index, port in enumerate(ports, 1)
        }
        if unknown := set(programs) - replicas.keys():
            raise NoSuchReplica(f"No such replica: {', '.join(sorted(unknown))}")
        for program, (port, drained) in replicas.items():
            if programs and program not in programs:
                continue
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

    def ctl(self, *args: str) -> str:
        """supervisorctl against this stack (status, pid NAME, restart web:*...); what it printed."""
        return supervisord.ctl(self.run_dir, *args, capture=True).stdout.strip()

    def pid(self, program: str) -> int:
        """The PID supervisord reports for a program (web:web-1, checkout:checkout-1, worker); 0 while it is down."""
        answer = self.ctl("pid", program)
        return int(answer) if answer.isdigit() else 0

    def crash(self, program: str) -> float | None:
        """SIGKILL ``program`` and its children, as the OOM killer would; seconds until supervisord runs it again, or None."""
        old_pid = self.pid(program)
        os.killpg(old_pid, signal.SIGKILL)
        started = time.monotonic()
        if readiness.wait_until(lambda: self.pid(program) not in (0, old_pid), timeout=60):
            return time.monotonic() - started
        return None

    def stop(self, program: str) -> None:
        """Stop a program (worker, web:web-1) as an operator would; it stays stopped until ``start``."""
        self.ctl("stop", program)

    def start(self, program: str) -> None:
        self.ctl("start", program)

    def orders_with_status(self, status: str) -> int:
        """How many of the shop's orders have ``status`` (pending, confirmed...)."""
        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://")) as connection:
            return connection.execute("SELECT count(*) FROM shop_order WHERE status = %s", [status]).fetchone()[0]

    def python(self, *args: str, capture: bool = True, extra_env: Mapping[str, str] | None = None) -> str:
        """Run Python (a script, ``-m module``) inside the stack's settings; what it printed (if captured)."""
        env = self.process_env({"PYTHONPATH": str(ROOT), **(extra_env or {})})
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=capture, text=True)
        if done.returncode:
            said = f":\n{done.stdout}{done.stderr}" if capture else ""
            raise StackError(f"`python {' '.join(args)}` exited with {done.returncode}{said}")
        return done.stdout if capture else ""

    def manage(self, *args: str, capture: bool = True, extra_env: Mapping[str, str] | None = None) -> str:
        """Run a management command against this stack (`make manage`); what it printed."""
        return self.python("manage.py", *args, capture=capture, extra_env=extra_env)

    def audit(self, step: str, folder: Path, *options: str, record: Path | None = None) -> dict:
        """`python -m loadtest.audit` in the stack's settings (its database, ledger and mail); what it found."""
        options = (*options, "--record", str(record)) if record is not None else options
        return json.loads(self.python("-m", "loadtest.audit", step, "--folder", str(folder), *options))

    def waitingroom(self, *args: str) -> str:
        """`manage.py waitingroom ...`, returning once every process of the stack has read the change."""
        said = self.manage("waitingroom", *args)
        time.sleep(ROOM_CHANGE_SECONDS)
        return said

    def empty_caches(self) -> int:
        """Empty the page caches as a cold start would (Redis's entries, nginx's microcache); the keys deleted.

        The room's state is kept; each process's memory tier follows within CACHE_VERSION_LOCAL_SECONDS.
        """
        cache = redis.Redis.from_url(self.redis_urls["REDIS_URL"])
        room = f"{self.cache_prefix}:waitingroom:"
        keys = cache.scan_iter(match=f"{self.cache_prefix}:*", count=1000)
        doomed = [key for key in keys if not key.decode().startswith(room)]
        for start in range(0, len(doomed), 500):
            cache.delete(*doomed[start : start + 500])
        for entry in (self.run_dir / "nginx" / "cache").iterdir():
            shutil.rmtree(entry, ignore_errors=True)
        return len(doomed)

    def put_static(self, path: str, text: str) -> str:
        """Put a file where nginx serves /static/ from; its URL."""
        (ROOT / "staticfiles" / path).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / "staticfiles" / path).write_text(text, encoding="utf-8")
        return f"{self.url}/static/{path}"

    def log_tails(self, lines: int = 15) -> str:
        """The end of every log the stack wrote, to explain a stack that did not come up."""
        return "".join(
            f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.logs.glob("*.log"))
        )

    def process_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of the stack's processes: its own, its settings module and file."""
        own = {"DJANGO_SETTINGS_MODULE": self.settings_module, "ENV_FILE": str(self.env_file)}
        return {**self.env, **own, **(extra or {})}

    def _write_settings(self) -> None:
        """stack.env: the settings every process shares (and `make manage` reads)."""
        secret_file = self.run_dir / "secret_key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(50))
        settings = {
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
            "EMAIL_URL": f"filemail:///{self.run_dir / 'mail'}",
            "SHOP_FAKE_PAYMENT_LEDGER": str(self.run_dir / "payments.sqlite3"),
            **{name: self.env[name] for name in PASSTHROUGH if name in self.env},
        }
        lines = ["# Written by `make stack`: the stack's settings. `make manage` reads this file."]
        self.env_file.write_text("\n".join([*lines, *(f"{name}={value}" for name, value in settings.items())]) + "\n")

    def _ensure_database(self) -> None:
        server = self.database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _drain(self, port: int, draining: bool) -> None:
        nginxconf.set_draining(self.run_dir, port, draining)
        self.ctl("signal", "HUP", "nginx")  # a graceful reload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack and return once it answers")
    up.add_argument("--web", type=int, default=int(os.environ.get("WEB", 2)), help="browsing replicas")
    buying = "cart and checkout replicas (0: the web replicas serve them)"
    up.add_argument("--checkout", type=int, default=int(os.environ.get("CHECKOUT", 1)), help=buying)
    commands.add_parser("down", help="stop exactly what `up` started")
    restart = commands.add_parser("restart", help="replace the replicas one at a time, each drained first")
    restart.add_argument("programs", nargs="*", help="only these (web:web-1 ...); default: every replica")
    ctl = commands.add_parser("ctl", help="supervisorctl against the running stack (default: status)")
    manage = commands.add_parser("manage", help="a management command against the running stack")
    for command in (ctl, manage):
        command.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    try:
        if args.command == "up":
            stack = Stack(web=args.web, checkout=args.checkout)
            stack.up()
            replicas = f"{args.web} web and {args.checkout} checkout replicas"
            print(f"Stampede is up at {stack.url}/ ({replicas}, worker, beat, nginx).")
            print("Stop it with `make stack-down`; run management commands with `make manage ARGS=...`.")
        elif args.command == "down":
            if Stack().down():
                print("Stopped the stack: supervisord and every process it ran.")
        elif args.command == "ctl":  # supervisorctl's own output and exit status
            return supervisord.ctl(Stack.running().run_dir, *(args.args or ["status"])).returncode
        elif args.command == "manage":
            Stack.running().manage(*args.args, capture=False)
        else:
            for line in Stack.running().restart(*args.programs):
                print(line, flush=True)
    except StackError as error:
        print(error, file=sys.stderr)
        return 2 if isinstance(error, NoSuchReplica) else 1
    except FileNotFoundError:
        print("No stack runs here: `make stack` starts one.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
