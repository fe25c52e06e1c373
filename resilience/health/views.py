"""/healthz (liveness) and /readyz (readiness, application/health+json).

The format follows the IETF draft "Health Check Response Format for HTTP APIs":
https://datatracker.ietf.org/doc/html/draft-inadarei-api-health-check
"""

from __future__ import annotations

import json
import threading
import time
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from resilience.conf import get_setting
from resilience.health.checks import HealthCheck, HealthCheckFailed

CONTENT_TYPE = "application/health+json"


@cache
def configured_checks() -> list[tuple[HealthCheck, bool]]:
    """Return the configured checks, instantiated once per process."""
    return [(import_string(path)(), critical) for path, critical in get_setting("HEALTH_CHECKS")]


def _run(check: HealthCheck, critical: bool) -> dict:
    started = time.perf_counter()
    result = {"componentType": check.component_type, "status": "pass"}
    try:
        check.check()
    except HealthCheckFailed as failure:
        result["status"] = "fail" if critical else "warn"
        result["output"] = str(failure)
    result["observedValue"] = round((time.perf_counter() - started) * 1000, 2)
    result["observedUnit"] = "ms"
    result["time"] = timezone.now().isoformat()
    return result


def _response(body: dict, status: int) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)


@never_cache
@require_safe
def liveness(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is touched."""
    return _response({"status": "pass"}, 200)


class _LastReadiness:
    """The last readiness answer, reused for READINESS_CACHE_SECONDS; one check runs at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at, self.body, self.status = float("-inf"), {}, 0

    def get(self) -> tuple[dict, int]:
        with self.lock:
            if time.monotonic() - self.at >= get_setting("READINESS_CACHE_SECONDS"):
                checks = {
                    f"{check.name}:responseTime": [_run(check, critical)] for check, critical in configured_checks()
                }
                statuses = {entry[0]["status"] for entry in checks.values()}
                overall = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
                self.at, self.body, self.status = (
                    time.monotonic(),
                    {"status": overall, "checks": checks},
                    (503 if overall == "fail" else 200),
                )
            return self.body, self.status


last_readiness = _LastReadiness()


@never_cache
@require_safe
def readiness(request: HttpRequest) -> HttpResponse:
    """Can this replica serve customers? 503 if a dependency it needs is down.

    For probes only: a request that came through a proxy (it carries X-Forwarded-For, which
    nginx and the ingress append) is answered 404, so the world cannot make every replica
    query its database, cache and broker.
    """
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return _response({"status": "fail", "output": "not found"}, 404)
    body, status = last_readiness.get()
    return _response(body, status)
