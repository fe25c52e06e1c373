"""One way to reach Celery's broker from a probe or a scrape: at once, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from kombu import Connection


def broker_is_eager() -> bool:
    """True when no broker is used: tasks run in-process (the embedded default)."""
    return bool(current_app.conf.task_always_eager)


@contextmanager
def broker_connection(*, timeout: float) -> Iterator[Connection]:
    """A reading connection to the broker, established within ``timeout`` seconds and without retries (or raises)."""
    with current_app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)
        yield connection
