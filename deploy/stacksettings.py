"""What `make stack` is made of, from the environment: where it runs, its ports, its settings.

Read once here by deploy/localstack.py (up, down, ctl) and deploy/rolling.py (restart).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Overridable so the end-to-end tests run a stack of their own beside a developer's.
RUN_DIR = Path(os.environ.get("STACK_RUN_DIR", ROOT / "var" / "stack")).resolve()
PORT = os.environ.get("STACK_PORT", "8080")
FIRST_PORTS = {"web": 8101, "checkout": 8201}
# Or each pool's ports one by one (STACK_WEB_PORTS, STACK_CHECKOUT_PORTS), for callers that picked free ports.
EXPLICIT_PORTS = {
    pool: [int(port) for port in os.environ.get(f"STACK_{pool.upper()}_PORTS", "").split(",") if port]
    for pool in FIRST_PORTS
}
# How much less the browsing replicas are scheduled than checkout (nice, 0 to 19).
WEB_NICE = int(os.environ.get("STACK_WEB_NICE", 10))
WORKERS = os.environ.get("GUNICORN_WORKERS", "2")
THREADS = os.environ.get("GUNICORN_THREADS", "2")
REPLICA_SLOTS = int(WORKERS) * int(THREADS)  # a browsing replica's requests at once (nginx's max_conns)
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
    "CACHE_KEY_PREFIX",
    "CELERY_TASK_DEFAULT_QUEUE",
    "SHOP_FAKE_PAYMENT_OUTCOME",
    "SHOP_FAKE_PAYMENT_DELAY_SECONDS",
    "METRICS_TOKEN",
    "ROOT_URLCONF",
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


def pool_ports(pool: str, count: int) -> list[int]:
    explicit = EXPLICIT_PORTS[pool]
    if explicit:
        if len(explicit) < count:
            raise SystemExit(f"STACK_{pool.upper()}_PORTS names {len(explicit)} ports for {count} replicas")
        return explicit[:count]
    return [FIRST_PORTS[pool] + index for index in range(count)]
