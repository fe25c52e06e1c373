"""One way to say "not now, try again in N seconds"."""

from __future__ import annotations

from django.http import HttpResponse


def retry_later(
    body: str, *, status: int, retry_after: int | str, content_type: str = "text/html; charset=utf-8"
) -> HttpResponse:
    """A response that tells browsers and clients when to come back, and that no cache may keep."""
    response = HttpResponse(body, status=status, content_type=content_type)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response
