"""Defaults for every resilience tunable; override any of them in Django's settings.

Read them through ``resilience.conf.get_setting``: ``RESILIENCE_<NAME>`` in settings wins.
"""
from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Readiness checks run by /readyz, in order: (dotted path, critical?). A failing
    # critical check makes the replica unready (503); a failing optional one is a warning.
    "HEALTH_CHECKS": [
        ("resilience.health.checks.DatabaseCheck", True),
        ("resilience.health.checks.CacheCheck", False),
        ("resilience.health.checks.BrokerCheck", False),
    ],
    "HEALTH_CHECK_TIMEOUT_SECONDS": 1.0,
    # /metrics answers these networks directly (Prometheus inside the cluster), and anyone
    # else only with "Authorization: Bearer <METRICS_TOKEN>". A request that came through
    # a proxy (it has X-Forwarded-For) is never trusted by address.
    "METRICS_TOKEN": "",
    "METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
    # Celery queues whose depth /metrics reports.
    "METRICS_CELERY_QUEUES": ["celery"],
}
