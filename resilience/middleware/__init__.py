"""Resilience middleware: each class is one concern; its module says where it goes."""
from resilience.middleware.probes import ProbeEndpointsMiddleware

__all__ = ["ProbeEndpointsMiddleware"]
