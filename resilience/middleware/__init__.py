"""Resilience middleware: each class is one concern; its module says where it goes."""

from resilience.middleware.probes import ProbeEndpointsMiddleware
from resilience.middleware.shedding import LoadSheddingMiddleware

__all__ = ["LoadSheddingMiddleware", "ProbeEndpointsMiddleware"]
