"""/healthz and /readyz: liveness touches nothing; readiness reports each dependency."""

from __future__ import annotations

import json

import pytest

from config.celery import app as celery_app
from resilience.health.views import last_readiness


def readiness(client):
    response = client.get("/readyz")
    body = json.loads(response.content)
    return response, body


def check_status(body, name: str) -> str:
    return body["checks"][f"{name}:responseTime"][0]["status"]


@pytest.fixture
def broker_on(redis_server):
    """Point the app's broker reads at a redis-server the test can kill."""
    celery_app.conf.broker_read_url = redis_server.url
    celery_app._after_fork()  # drop cached connection pools
    yield redis_server
    celery_app.conf.broker_read_url = None
    celery_app._after_fork()


def test_liveness_answers_without_touching_anything(client):
    # No django_db mark: any database access here would raise. A probe names the pod's IP.
    response = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    assert json.loads(response.content) == {"status": "pass"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_passes_with_every_dependency_up(client):
    response, body = readiness(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    assert body["status"] == "pass"
    for name in ("database", "cache", "broker"):
        entry = body["checks"][f"{name}:responseTime"][0]
        assert entry["status"] == "pass"
        assert entry["observedUnit"] == "ms" and entry["observedValue"] >= 0


def test_readiness_fails_with_503_while_the_database_is_down_and_recovers(client, database_down):
    response, body = readiness(client)
    assert response.status_code == 503
    assert body["status"] == "fail" and check_status(body, "database") == "fail"

    database_down()  # the database is back

    response, body = readiness(client)
    assert response.status_code == 200 and check_status(body, "database") == "pass"


@pytest.mark.django_db
def test_readiness_warns_but_stays_ready_when_the_cache_is_down(client, private_redis):
    assert check_status(readiness(client)[1], "cache") == "pass"

    private_redis.stop()

    response, body = readiness(client)
    assert response.status_code == 200
    assert body["status"] == "warn" and check_status(body, "cache") == "warn"


@pytest.mark.django_db
def test_readiness_warns_but_stays_ready_when_the_broker_is_down(client, broker_on):
    assert check_status(readiness(client)[1], "broker") == "pass"

    broker_on.stop()

    response, body = readiness(client)
    assert response.status_code == 200  # checkout still works: the sweeper queues later
    assert body["status"] == "warn" and check_status(body, "broker") == "warn"


def test_readiness_never_reveals_hosts_or_error_details(client, database_down, settings):
    body = client.get("/readyz").content.decode()

    for secret in ("127.0.0.1", "postgres", settings.DATABASES["default"]["NAME"], "Error", "refused"):
        assert secret not in body, secret
    assert "database unavailable" in body


@pytest.mark.django_db
def test_readiness_through_a_proxy_is_not_found_and_checks_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/readyz", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_burst_of_probes_runs_the_checks_once_within_the_cache_time(client, settings, django_assert_num_queries):
    settings.RESILIENCE_READINESS_CACHE_SECONDS = 60
    last_readiness.at = float("-inf")
    first, _ = readiness(client)

    with django_assert_num_queries(0):
        again, body = readiness(client)

    assert (first.status_code, again.status_code, body["status"]) == (200, 200, "pass")
