from django.urls import path

from resilience.health.views import liveness, readiness
from resilience.metrics import metrics_view

urlpatterns = [
    path("healthz", liveness, name="healthz"),
    path("readyz", readiness, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
