"""The project's URLs plus a view that always fails, for the error-page tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from config.urls import handler404, handler500  # noqa: F401 - Django reads the handlers from the root URLconf


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-internal-detail: the database password is hunter2")


urlpatterns = [
    path("explode/", explode),
    path("", include("config.urls")),
]
