"""Prometheus counters for the spike defences (exported by /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CACHE_REQUESTS = Counter(
    "stampede_cache_requests", "Cache-aside lookups, by namespace and result.", ["namespace", "result"]
)
CACHE_ERRORS = Counter("stampede_cache_errors", "Cache operations that failed or were skipped.", ["reason"])
REQUESTS_SHED = Counter("stampede_requests_shed", "Requests answered 503 because they waited too long.", ["priority"])
REQUESTS_UNSTAMPED = Counter(
    "stampede_requests_unstamped", "Requests that came without X-Request-Start: nothing to shed them by."
)
REQUEST_QUEUE_SECONDS = Histogram(
    "stampede_request_queue_seconds",
    "Time between the proxy receiving a request and the app starting on it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WAITINGROOM_STORE_ERRORS = Counter(
    "stampede_waitingroom_store_errors", "Requests the waiting room let through (or refused) because Redis failed."
)


def cache_error_count(error: BaseException, *, reason: str) -> None:
    """Count one failed cache operation once, however many layers (the Redis client, the cache helpers) see it."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:  # redis-py's re-raises can make the chain a loop
        if getattr(link, "_stampede_counted", False):
            return
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    CACHE_ERRORS.labels(reason=reason).inc()
    error._stampede_counted = True  # type: ignore[attr-defined]
