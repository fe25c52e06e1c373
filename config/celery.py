"""The Celery app; its settings are the CELERY_* names in Django's settings."""

import logging
import os

from celery import Celery
from celery.signals import worker_process_shutdown, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("stampede")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger(__name__)


@worker_ready.connect
def serve_worker_metrics(**kwargs) -> None:
    """Expose the worker's metrics (orders processed) when CELERY_METRICS_PORT is set."""
    port = os.environ.get("CELERY_METRICS_PORT")
    if port:
        from resilience.metrics import start_metrics_server

        start_metrics_server(int(port))


@worker_ready.connect
def recover_orders(**kwargs) -> None:
    """Queue at once the orders a killed worker on this machine left, and any nobody works on."""
    from shop.services.leases import this_host
    from shop.services.orders import orders_recover

    try:
        orders_recover(host=this_host())
    except Exception:  # noqa: BLE001 - never keep a worker from starting: the sweeper does this too
        logger.warning("Order recovery at worker start failed; the sweeper will catch up", exc_info=True)


@worker_process_shutdown.connect
def forget_dead_worker_process(pid: int, **kwargs) -> None:
    from resilience.metrics import process_dead

    process_dead(pid)
