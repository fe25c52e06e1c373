"""The shop's own Prometheus metrics (request metrics come from django-prometheus)."""

from prometheus_client import Counter, Histogram

ORDERS_CREATED = Counter("stampede_orders_created", "Orders placed at checkout.")
ORDERS_PROCESSED = Counter("stampede_orders_processed", "Orders the worker finished, by outcome.", ["outcome"])
CHECKOUT_LATENCY = Histogram(
    "stampede_checkout_latency_seconds",
    "Time to place an order: write it and reserve its stock.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
