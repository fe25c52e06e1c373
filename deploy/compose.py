"""`make compose`: docker-compose.yml's stack, run for real on this machine, as one object.

The compose file names every image through a variable defaulting to the official one. Where no
image registry answers, ``up`` first builds stand-ins from Debian's packages (deploy/images/) and
points the variables at them; a variable already set (a company's mirror) is left as it is.
``ComposeStack.isolated`` runs a stack beside any other (the tests'): its own project name, env
file and loopback ports, removed with its volumes at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from deploy.stack import ROOT, StackError, free_port

IMAGE_VARIABLES = ("PYTHON_IMAGE", "NGINX_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "PROMETHEUS_IMAGE")
REGISTRY = "https://registry-1.docker.io/v2/"  # Docker Hub's API answers 401 to anyone who can reach it
PLACEHOLDER = re.compile(r"^([A-Z_]+)=change-me\S*$", re.MULTILINE)


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
    ) -> None:
        self.web, self.checkout, self.project, self.env_file = web, checkout, project, env_file
        self.port, self.prometheus_port = port, prometheus_port
        self.env = {
            **(os.environ if env is None else env),
            "STAMPEDE_ENV_FILE": str(env_file),
            "STAMPEDE_HTTP_PORT": str(port),
            "PROMETHEUS_PORT": str(prometheus_port),
        }

    @classmethod
    def isolated(cls, name: str, *, web: int, checkout: int = 1, env: Mapping[str, str] | None = None) -> ComposeStack:
        """A stack beside any other: project ``stampede-<name>``, free loopback ports, settings for plain http."""
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
        )
        stack.disposable = True
        return stack

    @property
    def url(self) -> str:
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
        done = self.compose("up", "--detach", "--build", "--wait", "--wait-timeout", "300", *scale, capture=False)
        if done.returncode:
            raise StackError(f"`docker compose up` exited with {done.returncode}:\n{self.logs()}")

    disposable = False  # an isolated stack's folder and env file (its secrets) go with it

    def down(self) -> None:
        """Stop and remove the project's containers, networks and volumes."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "30")
        if self.disposable:
            shutil.rmtree(self.env_file.parent, ignore_errors=True)  # var/compose/<name>/, made for it

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

    def manage(self, *args: str) -> str:
        """Run a management command in a checkout replica; what it printed."""
        done = self.compose("exec", "-T", "checkout", "python", "manage.py", *args)
        if done.returncode:
            raise StackError(f"`manage.py {' '.join(args)}` exited with {done.returncode}:\n{done.stdout}{done.stderr}")
        return done.stdout

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
        return f"{self.url}/static/{path}"

    def logs(self, lines: int = 30) -> str:
        return self.compose("logs", "--no-color", "--tail", str(lines)).stdout


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
