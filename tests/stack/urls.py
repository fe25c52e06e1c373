"""The shop's URLs plus a page that takes its time, for the stack tests only (ROOT_URLCONF)."""

import time

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as shop_urlpatterns


def slow(request: HttpRequest) -> HttpResponse:
    """Hold a thread for a few seconds, as a page that is expensive to render would."""
    time.sleep(min(float(request.GET.get("seconds", "2")), 10))
    return HttpResponse("slow", headers={"Cache-Control": "private, no-store"})  # each one must reach the app


urlpatterns = [path("slow/", slow), *shop_urlpatterns]
