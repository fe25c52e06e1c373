"""Celery: the broker, how tasks are acknowledged, and the beat schedule."""

from __future__ import annotations

from .env import env

# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# With no broker configured, tasks run in-process at once (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="stampede")
# A task is acknowledged only after it finished, and a worker that dies mid-task hands
# it back: an order is processed at least once, and the task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 10
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis re-delivers an unacknowledged task after this long. It must exceed the
    # longest a task can run (the time limit) or a slow task would run twice at once;
    # it is also how long a task lost with its worker waits before it is retried.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
# Checkout must not hang on a dead broker: try briefly, then leave it to the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.4}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Often, so an order nobody works on is queued again within seconds of being found so; a sweep
# still waiting after one interval (no worker took it) is dropped, as the next does its work.
ORDER_SWEEP_INTERVAL_SECONDS = env.int("ORDER_SWEEP_INTERVAL_SECONDS", default=15)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-orders": {
        "task": "shop.tasks.orders_sweep_stuck",
        "schedule": ORDER_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": ORDER_SWEEP_INTERVAL_SECONDS},
    },
    "clear-expired-sessions": {"task": "shop.tasks.sessions_clear_expired", "schedule": 60 * 60},
}
