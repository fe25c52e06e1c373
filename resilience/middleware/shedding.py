"""Load shedding: answer 503 at once to requests that already waited too long.

Place it right after ProbeEndpointsMiddleware, before anything that does work (sessions,
authentication, views). nginx stamps ``X-Request-Start: t=<seconds>.<millis>`` when it
receives a request; the difference to now is the time spent queued for a gunicorn
worker. Under overload that queue grows; a request that waited past its visitor's
patience is worth nothing, and answering it late only makes everyone else wait longer.
Checkout and cart requests from visitors with a session wait longest before being shed.

It is also the waiting room's sensor at the door (adaptive.py): how long requests queued, and
for the WAITINGROOM_WATCHED_PATHS (checkout) how long the customer waited in all, from nginx's
stamp until the response leaves every middleware inside this one (the session saved too).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template import loader

from resilience.conf import get_setting
from resilience.instruments import REQUEST_QUEUE_SECONDS, REQUESTS_SHED, REQUESTS_UNSTAMPED
from resilience.responses import retry_later
from resilience.waitingroom.adaptive import pressure

logger = logging.getLogger(__name__)


def queued_seconds(request: HttpRequest, now: float | None = None) -> float | None:
    """Return how long the request waited since the proxy stamped it, if it was stamped."""
    stamp = request.headers.get("X-Request-Start", "")
    if stamp.startswith("t="):
        stamp = stamp[2:]
    try:
        started = float(stamp)
    except ValueError:
        return None
    if started > 1e11:  # some proxies stamp milliseconds or microseconds
        started /= 1000 if started < 1e14 else 1_000_000
    waited = (time.time() if now is None else now) - started
    return waited if -1.0 < waited < get_setting("SHED_MAX_PLAUSIBLE_WAIT_SECONDS") else None


class LoadSheddingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = get_setting("SHED_AFTER_SECONDS")
        self.protected_limit = get_setting("SHED_PROTECTED_AFTER_SECONDS")
        self.protected_paths = tuple(get_setting("SHED_PROTECTED_PATHS"))
        self.session_cookie = get_setting("SHED_SESSION_COOKIE")
        self.retry_after = str(get_setting("SHED_RETRY_AFTER_SECONDS"))
        self.watched = tuple(get_setting("WAITINGROOM_WATCHED_PATHS"))
        self.warned = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        waited = queued_seconds(request)
        if waited is None:
            self._unstamped()
            return self._timed(request, waited=0.0)
        REQUEST_QUEUE_SECONDS.observe(max(waited, 0.0))
        pressure.observe("queue", max(waited, 0.0))  # what the waiting room's auto mode steers by
        protected = self._is_protected(request)
        if waited <= (self.protected_limit if protected else self.limit):
            return self._timed(request, waited=max(waited, 0.0))
        REQUESTS_SHED.labels(priority="protected" if protected else "normal").inc()
        body = loader.render_to_string("resilience/busy.html", {"retry_after": self.retry_after})
        return retry_later(body, status=503, retry_after=self.retry_after)

    def _timed(self, request: HttpRequest, *, waited: float) -> HttpResponse:
        """The response; a watched path's whole wait noted for the room (timed from here if unstamped).

        Timed here, not around the view: timed inside the room's middleware a checkout misses its
        wait for a thread and the session's save, reads a fraction of what nginx (and the
        customer) sees, and the room never slows its pace.
        """
        if not request.path.startswith(self.watched):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        pressure.observe("latency", waited + time.perf_counter() - started)
        return response

    def _unstamped(self) -> None:
        # Without the proxy's stamp nothing can be shed: say so once, count every time.
        REQUESTS_UNSTAMPED.inc()
        if not self.warned:
            self.warned = True
            logger.warning("A request came without X-Request-Start: load shedding is off until the proxy stamps it")

    def _is_protected(self, request: HttpRequest) -> bool:
        return (
            bool(self.protected_paths)
            and request.path.startswith(self.protected_paths)
            and (self.session_cookie in request.COOKIES)
        )
