"""Error views that know an outage from a bug."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

from resilience.conf import get_setting
from resilience.responses import retry_later

OUTAGE_ERRORS = (OperationalError, InterfaceError)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: a database outage is a 503 with Retry-After; anything else a plain 500.

    Django calls handler500 from inside its exception handler, so the exception is at hand.
    Neither page touches the database or the request's context processors.
    """
    error = sys.exc_info()[1]
    if isinstance(error, OUTAGE_ERRORS):
        retry_after = str(get_setting("UNAVAILABLE_RETRY_AFTER_SECONDS"))
        body = loader.render_to_string("resilience/unavailable.html", {"retry_after": retry_after})
        return retry_later(body, status=503, retry_after=retry_after)
    return HttpResponseServerError(loader.get_template(template_name).render())
