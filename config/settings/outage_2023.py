"""The shop as it ran on 2023-04-20 (see the postmortem), for `make loadtest` to compare against.

The same code with every spike defence switched off: no page, query or fragment cache,
sessions read from the database on every request, orders charged and confirmed inside
the checkout request instead of by a Celery worker, no waiting room, no load shedding, and
the page script asks for the visitor's state on every page view.
`make loadtest` runs it beside Stampede as configured (`production`), in one run on
one machine, so its report shows what the defences are worth. Never deploy it.
"""

from .production import *  # noqa: F403
from .production import MIDDLEWARE

_NO_CACHE = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
CACHES = {"default": _NO_CACHE, "sessions": _NO_CACHE, "template_fragments": _NO_CACHE, "waitingroom": _NO_CACHE}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The task runs in the web process, in the request that placed the order.
CELERY_TASK_ALWAYS_EAGER = True

_DEFENCES = (
    "resilience.middleware.LoadSheddingMiddleware",
    "resilience.waitingroom.middleware.WaitingRoomMiddleware",
    # Without its version cookie the page script asks /cart/state/ on every page view, as in 2023.
    "shop.middleware.CartStateVersionMiddleware",
)
MIDDLEWARE = [name for name in MIDDLEWARE if name not in _DEFENCES]
