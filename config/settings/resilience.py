"""The spike defences as this shop sets them (defaults and meanings: resilience/defaults.py)."""

from __future__ import annotations

from .caches import CACHES
from .celery import CELERY_TASK_DEFAULT_QUEUE
from .env import env
from .shop import SHOP_NAME

RESILIENCE_METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
RESILIENCE_METRICS_CELERY_QUEUES = [CELERY_TASK_DEFAULT_QUEUE]
RESILIENCE_SHED_AFTER_SECONDS = env.float("SHED_AFTER_SECONDS", default=2.0)
RESILIENCE_SHED_PROTECTED_AFTER_SECONDS = env.float("SHED_PROTECTED_AFTER_SECONDS", default=10.0)
# Visitors with a cart who are checking out are the last to be turned away.
RESILIENCE_SHED_PROTECTED_PATHS = ["/checkout/", "/cart/", "/orders/"]
# A visitor holding a cart when the room engages may finish buying (cart and checkout, counted
# as active); order status pages are never queued. Browsing on takes a pass.
RESILIENCE_WAITINGROOM_ADMIT_IF = "shop.selectors.visitor_holds_cart"
RESILIENCE_WAITINGROOM_BUYING_PATHS = ["/cart/", "/checkout/"]
RESILIENCE_WAITINGROOM_EXEMPT_PATHS = ["/admin/", "/static/", "/media/", "/favicon.ico", "/orders/"]
# In auto mode the room engages when placing an order gets slow (or requests queue too long).
RESILIENCE_WAITINGROOM_WATCHED_PATHS = ["/checkout/"]
RESILIENCE_WAITINGROOM_CACHE_ALIAS = "waitingroom"
RESILIENCE_WAITINGROOM_KEY_PREFIX = f"{CACHES['default'].get('KEY_PREFIX', 'stampede')}:waitingroom"
RESILIENCE_WAITINGROOM_SITE_NAME = SHOP_NAME
RESILIENCE_WAITINGROOM_FAIL_OPEN = env.bool("WAITINGROOM_FAIL_OPEN", default=True)
RESILIENCE_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
