"""System checks: a misconfigured order pipeline fails `manage.py check` (and every start), not an order."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def order_lease_outlasts_its_task(app_configs=None, **kwargs) -> list[Error]:
    """A lease that ends while its task may still run lets a second worker run the order beside it."""
    errors = []
    if settings.SHOP_ORDER_LEASE_MARGIN_SECONDS <= 0:
        errors.append(
            Error(
                "SHOP_ORDER_LEASE_MARGIN_SECONDS must be positive: the lease must outlast the task's time limit.",
                hint="Leave it at its default (10), or raise it.",
                id="shop.E001",
            )
        )
    lease = settings.CELERY_TASK_TIME_LIMIT + settings.SHOP_ORDER_LEASE_MARGIN_SECONDS
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is not None and visibility <= lease:
        # Redis hands an unacknowledged task to another worker after this long, under the same
        # task id, which may take up the claim of the task still running.
        errors.append(
            Error(
                f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) must exceed the order lease ({lease} s).",
                hint="Raise CELERY_VISIBILITY_TIMEOUT, or lower CELERY_TASK_TIME_LIMIT.",
                id="shop.E002",
            )
        )
    return errors
