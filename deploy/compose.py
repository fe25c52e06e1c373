"""`make compose`: docker-compose.yml's stack, run for real on this machine, as one object.

The compose file names every image through a variable defaulting to the official one. Where no
image registry answers, ``up`` first builds stand-ins from Debian's packages (deploy/images/) and
points the variables at them; a variable already set (a company's mirror) is left as it is.
``ComposeStack.isolated`` runs a stack beside any other (the tests'): its own project name, env
file and loopback ports, removed with its volumes at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from deploy.balancer import Balancer
from deploy.readiness import wait_until
from deploy.stack import ROOM_CHANGE_SECONDS, ROOT, Stack, StackError, free_port

IMAGE_VARIABLES = ("PYTHON_IMAGE", "NGINX_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "PROMETHEUS_IMAGE")
REGISTRY = "https://registry-1.docker.io/v2/"  # Docker Hub's API answers 401 to anyone who can reach it
PLACEHOLDER = re.compile(r"^([A-Z_]+)=change-me\S*$", re.MULTILINE)
AUDIT_DIR = "/tmp/loadtest-audit"  # nosec B108 - the worker container's /tmp, not this machine's
# Every key of the page cache but the room's, deleted in one step inside Redis (the cold start's).
EMPTY_CACHE = (
    "local deleted = 0 "
    "for _, key in ipairs(redis.call('KEYS', '*')) do "
    "if not string.find(key, ':waitingroom:', 1, true) then redis.call('DEL', key) deleted = deleted + 1 end "
    "end return deleted"
)


def registry_answers(url: str = REGISTRY, timeout: float = 5) -> bool:
    """Whether an image registry can be reached from here (any HTTP answer counts)."""
    try:
        urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (a constant https URL)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def write_env_file(path: Path, *, extra: Mapping[str, str] | None = None) -> bool:
    """Write ``path`` from .env.example with a fresh secret for every change-me; never overwrite one. True if written."""
    if path.exists():
        return False
    text = PLACEHOLDER.sub(
        lambda found: f"{found.group(1)}={secrets.token_urlsafe(48)}", (ROOT / ".env.example").read_text()
    )
    lines = [text.rstrip("\n"), *(f"{name}={value}" for name, value in (extra or {}).items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)  # secrets
    return True


def offline_images() -> dict[str, str]:
    """Build (or find, cached) the Debian stand-ins; the compose file's image variables pointing at them."""
    built = subprocess.run([ROOT / "deploy" / "images" / "build.sh"], capture_output=True, text=True, check=False)
    if built.returncode:
        raise StackError(f"Building the stand-in images failed:\n{built.stderr[-3000:]}")
    return dict(line.split("=", 1) for line in built.stdout.split())


class ComposeStack:
    """docker-compose.yml's services under one project: nginx, ``web`` and ``checkout`` replicas, worker, beat, db..."""

    def __init__(
        self,
        *,
        web: int = 2,
        checkout: int = 1,
        project: str = "stampede",
        env_file: Path = ROOT / ".env",
        port: int = 8080,
        prometheus_port: int = 9090,
        env: Mapping[str, str] | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.web, self.checkout, self.project, self.env_file = web, checkout, project, env_file
        self.port, self.prometheus_port = port, prometheus_port
        self.run_dir = run_dir or ROOT / "var" / "compose" / project  # stack.json: what a load test's Locust reads
        self.balancer: Balancer | None = None
        self.env = {
            **(os.environ if env is None else env),
            "STAMPEDE_ENV_FILE": str(env_file),
            "STAMPEDE_HTTP_PORT": str(port),
            "PROMETHEUS_PORT": str(prometheus_port),
        }

    @classmethod
    def isolated(
        cls,
        name: str,
        *,
        web: int,
        checkout: int = 1,
        env: Mapping[str, str] | None = None,
        settings: Mapping[str, str] | None = None,
        balanced: bool = False,
    ) -> ComposeStack:
        """A stack beside any other: project ``stampede-<name>``, free loopback ports, settings for plain http.

        ``settings`` go into its env file with the rest; ``balanced`` puts a load balancer in front
        (deploy/balancer.py), so nginx sees each visitor's own loopback address: ``url`` is the balancer's.
        """
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env_file = ROOT / "var" / "compose" / name / ".env"
        env_file.unlink(missing_ok=True)
        write_env_file(
            env_file,
            extra={
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": f"{url},http://localhost:{port}",
                "SHOP_BASE_URL": url,
                "SECURE_COOKIES": "false",  # plain http on loopback: a client other than a browser keeps them too
                "SECURE_HSTS_SECONDS": "0",
                # Every charge and message kept in the worker's container (its /tmp, not this machine's),
                # to be read back as make stack's are.
                "SHOP_FAKE_PAYMENT_LEDGER": "/tmp/payments.sqlite3",  # nosec B108
                "EMAIL_URL": "filemail:////tmp/mail",
                **(settings or {}),
            },
        )
        stack = cls(
            web=web,
            checkout=checkout,
            project=f"stampede-{name}",
            env_file=env_file,
            port=port,
            prometheus_port=free_port(),
            env=env,
            run_dir=env_file.parent,
        )
        stack.disposable, stack.balanced = True, balanced
        return stack

    @classmethod
    def running(cls, run_dir: Path) -> ComposeStack:
        """The compose stack its ``up`` described in ``run_dir``/stack.json."""
        described = json.loads((Path(run_dir) / "stack.json").read_text())
        return cls(
            web=described["web"],
            checkout=described["checkout"],
            project=described["project"],
            env_file=Path(described["env_file"]),
            port=described["port"],
            prometheus_port=described["prometheus_port"],
            run_dir=Path(run_dir),
        )

    @property
    def url(self) -> str:
        """Where visitors go: the load balancer if there is one, else nginx's published port."""
        return self.balancer.url if self.balancer else self.nginx_url

    @property
    def nginx_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    def __enter__(self) -> ComposeStack:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> None:
        """Build what changed and start every service; return once each is healthy (StackError if not)."""
        if write_env_file(self.env_file):
            print(f"Wrote {self.env_file.relative_to(ROOT)} from .env.example, with fresh secrets", file=sys.stderr)
        if not all(name in self.env for name in IMAGE_VARIABLES) and not registry_answers():
            print("No image registry answers: building stand-in images from Debian's packages", file=sys.stderr)
            self.env = {**offline_images(), **self.env}  # a variable already set wins
        scale = ["--scale", f"web={self.web}", "--scale", f"checkout={self.checkout}"]
        if self.balanced:
            # Docker's proxy reaches nginx from the project network's gateway, which exists once the
            # containers are created; nginx, never started yet, is created again believing it.
            created = self.compose("up", "--no-start", "--build", *scale, capture=False)
            if created.returncode:
                raise StackError(f"`docker compose up --no-start` exited with {created.returncode}")
            self.env = {**self.env, "NGINX_REAL_IP_FROM": self.gateway()}
        done = self.compose("up", "--detach", "--build", "--wait", "--wait-timeout", "300", *scale, capture=False)
        if done.returncode:
            raise StackError(f"`docker compose up` exited with {done.returncode}:\n{self.logs()}")
        if self.balanced:
            self.balancer = Balancer(self.run_dir / "balancer", upstream=self.port).__enter__()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        described = {"project": self.project, "env_file": str(self.env_file), "port": self.port}
        described |= {"prometheus_port": self.prometheus_port, "web": self.web, "checkout": self.checkout}
        (self.run_dir / "stack.json").write_text(json.dumps({"kind": "compose", **described}, indent=2))

    def scale(self, *, web: int, checkout: int, wait: bool = True) -> None:
        """``--scale`` the running stack (nothing else recreated); return once every replica is healthy and
        nginx has resolved them (its resolver's valid=5s).

        Without ``wait``, as docs/runbook.md tells an operator in a spike: `up -d --no-deps --no-recreate`
        on the two pools only, returning once the new containers run. A plain `up --scale` checks every
        dependency of every service, nginx's on healthy web replicas too, and fails ("dependency failed
        to start: container web-2 is unhealthy") when a replica too busy to answer its health check is
        the reason for scaling out; it has started the new containers all the same.
        """
        scale = ["--scale", f"web={web}", "--scale", f"checkout={checkout}"]
        if wait:
            done = self.compose("up", "--detach", "--no-recreate", "--wait", "--wait-timeout", "300", *scale)
        else:
            done = self.compose("up", "--detach", "--no-deps", "--no-recreate", *scale, "web", "checkout")
        if done.returncode:
            raise StackError(f"`docker compose up --scale` exited with {done.returncode}:\n{done.stderr}")
        self.web, self.checkout = web, checkout
        if wait:
            time.sleep(6)

    def healthy(self, service: str) -> set[int]:
        """The numbers of the service's containers whose health check passes now (web-3: 3)."""
        listed = self._ps(
            "--filter=health=healthy",
            "--format",
            '{{.Label "com.docker.compose.container-number"}}',
            labels={"service": service},
        )
        return {int(line) for line in listed.split()}

    disposable = False  # an isolated stack's folder and env file (its secrets) go with it
    balanced = False

    def down(self) -> None:
        """Stop and remove the project's containers, networks and volumes."""
        if self.balancer:
            self.balancer.__exit__()
            self.balancer = None
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "30")
        if self.disposable:
            shutil.rmtree(self.env_file.parent, ignore_errors=True)  # var/compose/<name>/, made for it

    def gateway(self) -> str:
        """The address of the project network's gateway: where Docker's proxy connects to a container from."""
        done = subprocess.run(
            [
                "docker",
                "network",
                "inspect",
                f"{self.project}_default",
                "--format",
                "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode or not done.stdout.strip():
            raise StackError(f"No gateway for {self.project}_default: {done.stderr}")
        return done.stdout.strip()

    def compose(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
        """``docker compose`` on this project; what it printed, if captured."""
        command = ["docker", "compose", "--project-name", self.project, "--file", str(ROOT / "docker-compose.yml")]
        return subprocess.run(
            [*command, "--env-file", str(self.env_file), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=capture,
            text=True,
            check=False,
        )

    def exec(self, service: str, *command: str) -> str:
        """Run ``command`` in the service's (first) container; what it printed (StackError if it failed)."""
        done = self.compose("exec", "-T", service, *command)
        if done.returncode:
            raise StackError(
                f"`{' '.join(command)}` in {service} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
            )
        return done.stdout

    def manage(self, *args: str) -> str:
        """Run a management command in a checkout replica; what it printed."""
        return self.exec("checkout", "python", "manage.py", *args)

    def waitingroom(self, *args: str) -> str:
        """`manage.py waitingroom ...`, returning once every process has read the change (as make stack's)."""
        said = self.manage("waitingroom", *args)
        time.sleep(ROOM_CHANGE_SECONDS)
        return said

    def audit(self, step: str, folder: Path, *options: str, record: Path | None = None) -> dict:
        """`python -m loadtest.audit` in the worker's container, where the shop's data is: the database,
        the fake gateway's ledger, the mail. ``folder`` (and ``record``) are copied in and out."""
        self.exec("worker", "sh", "-c", f"mkdir -p {AUDIT_DIR} && rm -rf {AUDIT_DIR}/record")
        if record is not None:
            self._copy(str(record), f"worker:{AUDIT_DIR}/record")
            options = (*options, "--record", f"{AUDIT_DIR}/record")
        said = self.exec("worker", "python", "-m", "loadtest.audit", step, "--folder", AUDIT_DIR, *options)
        if step == "prepare":  # what it wrote for the visitors (catalog.json) and for the check
            folder.mkdir(parents=True, exist_ok=True)
            for name in ("catalog.json", "before.json"):
                self._copy(f"worker:{AUDIT_DIR}/{name}", str(folder / name))
        return json.loads(said)

    def empty_caches(self) -> int:
        """Empty the page caches as a cold start would (Redis's entries but the room's, nginx's microcache); keys deleted."""
        deleted = self.exec("redis", "sh", "-c", f'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli EVAL "{EMPTY_CACHE}" 0')
        self.exec("nginx", "sh", "-c", "rm -rf /var/cache/nginx/stampede/*")
        return int(deleted.strip() or 0)

    def container(self, program: str) -> str:
        """The id of a program's container, named as make stack names programs: worker, web:web-2 (web's second)."""
        service, _, replica = program.partition(":")
        number = replica.rpartition("-")[2] or "1"
        return self._ps("--all", "--quiet", labels={"service": service, "container-number": number}).strip()

    def _ps(self, *options: str, labels: Mapping[str, str] | None = None) -> str:
        """What `docker ps ...options` prints for this project's containers with these compose ``labels``."""
        wanted = {"project": self.project, **(labels or {})}
        filters = [f"--filter=label=com.docker.compose.{name}={value}" for name, value in wanted.items()]
        return subprocess.run(["docker", "ps", *filters, *options], capture_output=True, text=True).stdout

    def cpu_by_service(self) -> dict[str, list[float]]:
        """The cores each running container of the project is using (``docker stats``, over about a second),
        by service: {"web": [0.29, 0.3], "db": [0.4], ...}."""
        listed = self._ps("--format", '{{.ID}} {{.Label "com.docker.compose.service"}}')
        services = dict(line.split() for line in listed.splitlines() if line.strip())
        if not services:
            return {}
        stats = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.ID}} {{.CPUPerc}}", *services],
            capture_output=True,
            text=True,
            check=False,  # a container gone since `ps` fails the whole call: this sample is skipped
        ).stdout
        cores: dict[str, list[float]] = {}
        for line in stats.splitlines():
            container, percent = line.split()
            service = next(name for short, name in services.items() if container.startswith(short))
            cores.setdefault(service, []).append(float(percent.rstrip("%")) / 100)
        return cores

    def inspect(self, program: str, template: str) -> str:
        """``docker inspect --format template`` of the program's container."""
        done = subprocess.run(["docker", "inspect", "--format", template, self.container(program)], capture_output=True)
        return done.stdout.decode().strip()

    def pid(self, program: str) -> int:
        """The PID of the program's main process as this machine sees it; 0 while it is down."""
        return int(self.inspect(program, "{{.State.Pid}}") or 0)

    def crash(self, program: str) -> float | None:
        """SIGKILL the program's main process from this machine, as a crash or the OOM killer would; seconds until
        Docker runs it again (restart: unless-stopped), or None.

        Every process of the container dies with it. Not `docker kill`: Docker takes that for an
        operator's stop and leaves the container stopped whatever its restart policy (Engine 20.10).
        """
        old = self.pid(program)
        os.kill(old, signal.SIGKILL)
        started = time.monotonic()
        if wait_until(lambda: self.pid(program) not in (0, old), timeout=60, interval=0.2):
            return time.monotonic() - started
        return None

    def stop(self, program: str) -> None:
        """Stop the program's container as an operator would (it stays stopped until ``start``)."""
        subprocess.run(["docker", "stop", "--time", "30", self.container(program)], capture_output=True, check=True)

    def start(self, program: str) -> None:
        subprocess.run(["docker", "start", self.container(program)], capture_output=True, check=True)

    def orders_with_status(self, status: str) -> int:
        """How many of the shop's orders have ``status`` (pending, confirmed...)."""
        query = f"from shop.models import Order; print(Order.objects.filter(status={status!r}).count())"
        return int(self.manage("shell", "-v", "0", "--command", query).split()[-1])

    def _copy(self, source: str, destination: str) -> None:
        done = self.compose("cp", source, destination)
        if done.returncode:
            raise StackError(f"Copying {source} to {destination} failed: {done.stderr}")

    # The replicas publish no port (`--scale` needs that): only nginx is reachable from the host.
    replica_urls: list[str] = []

    def put_static(self, path: str, text: str) -> str:
        """Put a file where the nginx container serves /static/ from; its URL."""
        with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as copy:
            copy.write(text)
            copy.flush()
            os.chmod(copy.name, 0o644)  # nginx's workers read it as another user
            self.compose("exec", "-T", "nginx", "mkdir", "-p", str(Path("/srv/static", path).parent))
            done = self.compose("cp", copy.name, f"nginx:/srv/static/{path}")
        if done.returncode:
            raise StackError(f"Copying {path} into nginx failed: {done.stderr}")
        return f"{self.nginx_url}/static/{path}"

    def logs(self, lines: int = 30) -> str:
        return self.compose("logs", "--no-color", "--tail", str(lines)).stdout


def running_stack(run_dir: Path | str) -> Stack | ComposeStack:
    """The stack described in ``run_dir``/stack.json: make stack's or compose's."""
    described = json.loads((Path(run_dir) / "stack.json").read_text())
    return ComposeStack.running(Path(run_dir)) if described.get("kind") == "compose" else Stack.running(run_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.compose", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--web", type=int, default=2, help="browsing replicas")
    parser.add_argument("--checkout", type=int, default=1, help="cart and checkout replicas")
    args = parser.parse_args(argv)
    stack = ComposeStack(web=args.web, checkout=args.checkout, port=int(os.environ.get("STAMPEDE_HTTP_PORT", 8080)))
    try:
        if args.command == "down":
            stack.down()
            return 0
        stack.up()
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Stampede is up at http://localhost:{stack.port}/ ({args.web} web and {args.checkout} checkout replicas).")
    print("Stop it with `make compose-down`; `docker compose ps` shows every service.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
