"""/metrics: the shop's and Django's metrics, for the monitoring system only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from deploy.readiness import answers, wait_until
from deploy.stack import free_port
from shop.services.checkout import CustomerDetails, order_place
from shop.services.orders import order_process
from tests.conftest import CUSTOMER

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_are_served_to_an_internal_address_whatever_host_it_names(client):
    client.get("/")
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "stampede_celery_queue_depth" in text


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer wrong-token"},
    ],
    ids=["public-address", "through-the-public-proxy", "wrong-token"],
)
def test_metrics_are_refused_to_the_public(client, settings, headers):
    settings.RESILIENCE_METRICS_TOKEN = "s3cret-token"
    response = client.get("/metrics", **headers)

    assert response.status_code == 403
    assert "stampede" not in response.content.decode()


@pytest.mark.django_db
def test_metrics_are_served_anywhere_with_the_token(client, settings):
    settings.RESILIENCE_METRICS_TOKEN = "s3cret-token"
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200


@pytest.mark.django_db
def test_orders_created_and_processed_are_counted_by_outcome(
    client, product, settings, django_capture_on_commit_callbacks
):
    before = client.get("/metrics").content.decode()
    details = CustomerDetails(**CUSTOMER)

    with django_capture_on_commit_callbacks(execute=False):
        approved = order_place(idempotency_key=uuid.uuid4(), cart={product.pk: 1}, customer=details)
    order_process(order_id=approved.pk)
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "decline"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        declined = order_place(idempotency_key=uuid.uuid4(), cart={product.pk: 1}, customer=details)
    callbacks[0]()  # the "order created" counter fires on commit
    order_process(order_id=declined.pk)
    order_process(order_id=declined.pk)  # running again counts nothing twice

    after = client.get("/metrics").content.decode()
    assert (
        value(after, "stampede_orders_processed_total", outcome="confirmed")
        - value(before, "stampede_orders_processed_total", outcome="confirmed")
        == 1
    )
    assert (
        value(after, "stampede_orders_processed_total", outcome="failed")
        - value(before, "stampede_orders_processed_total", outcome="failed")
        == 1
    )
    assert value(after, "stampede_orders_created_total") - value(before, "stampede_orders_created_total") == 1
    assert (
        value(after, "stampede_checkout_latency_seconds_count")
        - value(before, "stampede_checkout_latency_seconds_count")
        == 2
    )


@pytest.mark.django_db
def test_celery_queue_depth_is_read_from_the_broker(client, settings):
    from config.celery import app as celery_app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    celery_app.control.purge()
    for _ in range(3):
        celery_app.send_task("shop.tasks.orders_sweep_stuck", queue=queue)

    text = client.get("/metrics").content.decode()

    assert value(text, "stampede_celery_queue_depth", queue=queue) == 3
    celery_app.control.purge()


def test_metrics_sum_requests_across_gunicorn_workers(tmp_path):
    """Three real gunicorn workers serve the requests; /metrics reports all of them."""
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_WORKERS": "3",
        "GUNICORN_THREADS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESSLOG": "",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz")
        # Probes skip the rest of the middleware; django-prometheus's first one still counts them.
        before = value(_get(f"{base}/metrics"), "django_http_requests_before_middlewares_total")
        sent = 0
        served_by: set[str] = set()
        # Concurrent bursts until the kernel has handed connections to at least two workers.
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(served_by) < 2 and sent < 600:
                list(pool.map(lambda _: _get(f"{base}/healthz"), range(30)))
                sent += 30
                served_by = _pids_that_counted_requests(metrics_dir)

        text = _get(f"{base}/metrics")

        assert len(served_by) >= 2, "the requests should have reached more than one worker"
        # +1: the /metrics request that produced ``before`` was counted after it was rendered.
        assert value(text, "django_http_requests_before_middlewares_total") - before == sent + 1
    finally:
        server.terminate()
        server.wait(timeout=30)


def _pids_that_counted_requests(metrics_dir: Path) -> set[str]:
    """The gunicorn workers whose own metrics file counts at least one request."""
    pids = set()
    for path in metrics_dir.glob("counter_*.db"):
        for key, count, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if "django_http_requests_before_middlewares_total" in key and count > 0:
                pids.add(re.search(r"_(\d+)\.db$", path.name).group(1))
    return pids


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def _wait_for(url: str, timeout: float = 20) -> None:
    assert wait_until(lambda: answers(url), timeout), f"{url} did not answer within {timeout} s"
