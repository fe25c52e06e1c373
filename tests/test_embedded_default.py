"""`make run` works on a bare machine: SQLite, local-memory cache, eager Celery, nothing else to start.

Each step runs `manage.py` in a subprocess with a clean environment, as a developer's shell would,
so neither this run's test settings nor a developer's .env leak in.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deploy.stack import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 20.0


def clean_env(directory: Path, **variables: str) -> dict[str, str]:
    """Return an environment with none of DATABASE_URL, REDIS_URL, CELERY_BROKER_URL and no .env file."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "ENV_FILE": str(directory / "absent.env"),
        **variables,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def django_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``code`` after ``django.setup()`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own local server
        return response.status, response.headers.get_content_type(), response.read().decode()


def wait_for_server(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, f"runserver exited with {server.returncode}"
        try:
            fetch(url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"runserver did not answer {url} within {SERVER_START_TIMEOUT} s")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, str]:
    """A fresh SQLite database, migrated and seeded the way `make run` does it."""
    directory = tmp_path_factory.mktemp("embedded")
    env = clean_env(directory, DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}")
    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = manage("seed_catalog", "--per-category", "5", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "Catalog ready: 13 categories, 65 products (65 new)." in seeded.stdout
    return env


def test_with_no_environment_the_settings_pick_the_embedded_services(tmp_path):
    result = django_python(
        "import json; from django.conf import settings as s; print(json.dumps(["
        "s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG]))",
        env=clean_env(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        True,
        False,
    ]


def test_seeding_again_adds_nothing(site):
    again = manage("seed_catalog", "--per-category", "5", env=site)

    assert again.returncode == 0, again.stderr
    assert "Catalog ready: 13 categories, 65 products (0 new)." in again.stdout


def test_the_system_check_passes(site):
    checked = manage("check", env=site)

    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout


def test_runserver_serves_the_catalog_a_product_and_the_stylesheet(site):
    first = django_python(
        "from shop.models import Product; p = Product.objects.order_by('name', 'id').first(); "
        "print(p.name); print(p.get_absolute_url())",
        env=site,
    )
    assert first.returncode == 0, first.stderr
    name, product_path = first.stdout.splitlines()
    base = f"http://127.0.0.1:{free_port()}"
    with open(Path(site["HOME"]) / "runserver.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", base.removeprefix("http://"), "--noreload"],
            cwd=BASE_DIR,
            env=site,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_server(f"{base}/", server)

        status, _, catalog = fetch(f"{base}/")
        assert status == 200 and name in html.unescape(catalog)
        status, _, page = fetch(f"{base}{product_path}")
        assert status == 200 and name in html.unescape(page)
        status, content_type, css = fetch(f"{base}/static/shop/css/shop.css")
        assert status == 200 and content_type == "text/css" and css
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def production_env(directory: Path, **variables: str) -> dict[str, str]:
    """A production environment as a demo shop deploys it, on SQLite, with ``variables`` added."""
    return clean_env(
        directory,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="shop.example",
        DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
        SHOP_DEMO_PAYMENTS="true",
        **variables,
    )


def test_production_settings_pass_the_deploy_checklist(tmp_path):
    env = production_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15")  # no check connects to it

    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_production_without_a_redis_the_room_shares_fails_the_deploy_checklist(tmp_path):
    checked = manage("check", "--deploy", env=production_env(tmp_path))

    assert checked.returncode != 0 and "resilience.E003" in checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "secret_key",
    [None, "insecure-dev-key-change-me-in-production-0123456789", "too-short-but-random-Xk29"],
    ids=["unset", "the-default", "short"],
)
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, secret_key):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="shop.example")
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    checked = manage("check", env=env)

    assert checked.returncode != 0
    assert "ImproperlyConfigured: Set SECRET_KEY to a random string of 50 or more characters." in checked.stderr


def test_production_refuses_to_start_with_the_fake_card_processor_unless_it_is_a_demo(tmp_path):
    env = clean_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        ALLOWED_HOSTS="shop.example",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.pop("SHOP_DEMO_PAYMENTS", None)

    refused = manage("check", env=env)
    demo = manage("check", env={**env, "SHOP_DEMO_PAYMENTS": "true"})

    assert refused.returncode != 0
    assert "SHOP_PAYMENT_GATEWAY is the fake processor, which approves orders nobody paid for." in refused.stderr
    assert demo.returncode == 0, demo.stderr


@pytest.mark.parametrize("token", ["change-me", "short-token-123"], ids=["placeholder", "short"])
def test_production_refuses_to_start_with_a_placeholder_metrics_token(tmp_path, token):
    env = clean_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        ALLOWED_HOSTS="shop.example",
        SECRET_KEY=secrets.token_urlsafe(50),
        SHOP_DEMO_PAYMENTS="true",
        METRICS_TOKEN=token,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    refused = manage("check", env=env)
    accepted = manage("check", env={**env, "METRICS_TOKEN": secrets.token_urlsafe(32)})

    assert refused.returncode != 0
    assert "Set METRICS_TOKEN to a random string of 32 or more characters, or leave it empty." in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
