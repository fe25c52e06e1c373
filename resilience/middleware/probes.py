"""Answer /healthz, /readyz and /metrics before the rest of the middleware.

Place it first in MIDDLEWARE (after django-prometheus's "before" middleware, if used).
Why first: probes and Prometheus address one replica by its IP, which ALLOWED_HOSTS
rightly rejects; these endpoints read no host, session or cookie; and they must never be
queued by the waiting room, shed under load or served from a cache.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from resilience.health.views import liveness, readiness
from resilience.metrics import metrics_view

PROBE_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": liveness,
    "/readyz": readiness,
    "/metrics": metrics_view,
}


class ProbeEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBE_VIEWS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
