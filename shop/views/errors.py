"""Error pages: a clear message in the shop's layout, never a stack trace."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def bad_request(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    """Render a 4xx page that says what was wrong with the request."""
    return render(request, "shop/error.html", {"title": "We could not do that", "message": message}, status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    message = "Your session form has expired or cookies are blocked. Please go back, reload the page and try again."
    return bad_request(request, message, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = "We could not find that page. It may have moved, or the product may no longer be sold."
    return render(request, "shop/error.html", {"title": "Page not found", "message": message}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without context processors or database access: this must work when
    # whatever broke the request is still broken.
    return HttpResponseServerError(loader.get_template("500.html").render())
