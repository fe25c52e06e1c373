"""Shared fixtures: real PostgreSQL, real Redis, a real Celery worker when asked for, a real Chromium (Debian's package,
driven by Playwright's sync API) for the browser tests of pytest-django's live server and of the compose stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache, caches
from django.db import connection

from config.celery import app as celery_app
from deploy.stack import free_port
from resilience.cachestore import local_tier
from resilience.versions import recent_versions
from resilience.waitingroom import adaptive
from resilience.waitingroom.config import OFF, config_cache
from resilience.waitingroom.store import room_reset
from shop.payments import FakeGateway
from tests.factories import CategoryFactory, ProductFactory

CUSTOMER = {
    "email": "ann@example.com",
    "full_name": "Ann Lee",
    "address": "1 Main Street",
    "postal_code": "1011 AB",
    "city": "Amsterdam",
    "country": "Netherlands",
}


def _clear_caches() -> None:
    cache.delete_pattern("*")  # only this run's keys: the Redis on this machine is shared
    caches["template_fragments"].clear()
    local_tier.clear()
    recent_versions.clear()


@pytest.fixture(autouse=True)
def _clean_cache_and_gateway() -> Iterator[None]:
    _clear_caches()
    FakeGateway.ledger().clear()
    config_cache.prime(OFF)  # the room is off unless a test switches it (and clears this)
    adaptive.pressure.reset()  # no test inherits another's slow checkouts
    adaptive.pressure.take_newcomers()  # nor its newcomers
    adaptive.current.clear()
    yield
    _clear_caches()
    room_reset()


@pytest.fixture
def category():
    return CategoryFactory(name="Kitchen", slug="kitchen")


@pytest.fixture
def product(category):
    return ProductFactory(category=category, name="Oak Cutting Board", slug="oak-cutting-board", stock=10)


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real Celery worker, in a thread, consuming this run's queue on the real Redis broker."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


@pytest.fixture
def customer() -> dict[str, str]:
    return dict(CUSTOMER)


@pytest.fixture(scope="session", autouse=True)
def _purge_this_runs_queue() -> Iterator[None]:
    """Drop tasks queued by tests that ran no worker, so the shared Redis is left clean."""
    yield
    celery_app.control.purge()


@pytest.fixture
def database_down(transactional_db):
    """Point Django's connection at a port where no PostgreSQL listens; yield a function that ends the outage."""
    original_port = connection.settings_dict["PORT"]

    def point_at(port) -> None:
        connection.close()
        connection.settings_dict["PORT"] = port

    point_at("1")
    yield lambda: point_at(original_port)
    point_at(original_port)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, on its own port, that the test may kill."""
    server = RedisServer(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_redis(settings, redis_server) -> RedisServer:
    """Point every Redis cache of the app at a redis-server of the test's own, which it may stop."""
    from config.settings.base import redis_cache

    settings.CACHES = {
        **settings.CACHES,
        "default": redis_cache(redis_server.url, prefix="private", ignore_errors=False),
        "sessions": redis_cache(redis_server.url, prefix="private", ignore_errors=True),
        "waitingroom": redis_cache(redis_server.url, prefix="private", ignore_errors=False),
    }
    return redis_server


class RedisServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    def start(self) -> None:
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")
# No downloads on these machines: Playwright drives the system browser, never one of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch) -> Iterator[object]:
    """A headless Chromium for one test; fail (never skip) where it is missing, so CI cannot go green without it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-packages` installs it", pytrace=False)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running on this thread, so Django would refuse
    # the test's own ORM calls between browser steps. Only for this test: the rest keep the check.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While that loop runs, Django keeps this thread's connections apart from its usual ones:
        # close them here, or the test database cannot be dropped at the end of the run.
        connections.close_all()
