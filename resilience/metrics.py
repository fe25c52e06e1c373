"""/metrics for Prometheus: every gunicorn worker's counters summed, plus Celery queue depth.

django-prometheus records the request metrics; this view exports them. We serve our own
view rather than django-prometheus's because it must (1) refuse the public, and
(2) add a collector that reads the broker's queue lengths at scrape time.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator
from functools import cache

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from resilience.broker import broker_connection, broker_is_eager
from resilience.conf import get_setting
from resilience.waitingroom.metrics import WaitingRoomCollector

logger = logging.getLogger(__name__)


class CeleryQueueDepthCollector(Collector):
    """Report how many tasks wait in each configured queue, asked of the broker at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("stampede_celery_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"])
        if not broker_is_eager():
            try:
                with broker_connection(timeout=get_setting("METRICS_BROKER_TIMEOUT_SECONDS")) as connection:
                    with connection.channel() as channel:
                        for queue in get_setting("METRICS_CELERY_QUEUES"):
                            gauge.add_metric([queue], _queue_length(channel, queue))
            except Exception:  # noqa: BLE001 - a dead broker must not break the scrape
                logger.warning("Could not read Celery queue depth", exc_info=True)
        yield gauge


def _queue_length(channel, queue: str) -> int:
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # noqa: BLE001 - Redis drops empty queues: "no such queue" means 0
        return 0


@cache
def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network) for network in get_setting("METRICS_ALLOWED_NETWORKS")]


def metrics_access_allowed(request: HttpRequest) -> bool:
    """Allow a bearer token, or a direct (not proxied) request from an internal network."""
    token = get_setting("METRICS_TOKEN")
    if token:
        supplied = request.headers.get("Authorization", "")
        if hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
            return True
    if "X-Forwarded-For" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


def multiprocess_mode() -> bool:
    """True under gunicorn or Celery with PROMETHEUS_MULTIPROC_DIR: each process writes its metrics to a file there."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def process_metrics_registry() -> CollectorRegistry:
    """The metrics every process of this machine recorded, summed (multiprocess mode), or this process's own."""
    if not multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def metrics_registry() -> CollectorRegistry:
    """Return a registry of the recorded metrics plus the ones read at scrape time (queue depths, the room)."""
    registry = CollectorRegistry()
    registry.register(_Recorded(process_metrics_registry()))
    registry.register(CeleryQueueDepthCollector())
    registry.register(WaitingRoomCollector())
    return registry


class _Recorded(Collector):
    """Expose a registry's metrics inside a fresh one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def process_dead(pid: int) -> None:
    """Forget a dead worker process's live gauges (multiprocess mode); its counters stay summed."""
    if multiprocess_mode():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_access_allowed(request):
        return HttpResponseForbidden("Metrics are only served to the monitoring system.", content_type="text/plain")
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


def start_metrics_server(port: int) -> None:
    """Serve /metrics for a process without a web server (the Celery worker)."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=process_metrics_registry())
