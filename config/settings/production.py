"""Production settings: secure by default; `manage.py check --deploy` is clean.

https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import FAKE_PAYMENT_GATEWAY, RESILIENCE_METRICS_TOKEN, SECRET_KEY, SHOP_PAYMENT_GATEWAY, env

DEBUG = False
if SECRET_KEY.startswith("insecure-") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of 50 or more characters.")
# Empty: /metrics answers the private network only. Set: a placeholder would open it to anyone.
if RESILIENCE_METRICS_TOKEN and ("change-me" in RESILIENCE_METRICS_TOKEN or len(RESILIENCE_METRICS_TOKEN) < 32):
    raise ImproperlyConfigured("Set METRICS_TOKEN to a random string of 32 or more characters, or leave it empty.")

# The fake card processor approves every order unpaid: a shop runs it only when it says so.
SHOP_DEMO_PAYMENTS = env.bool("SHOP_DEMO_PAYMENTS", default=False)
if SHOP_PAYMENT_GATEWAY == FAKE_PAYMENT_GATEWAY and not SHOP_DEMO_PAYMENTS:
    raise ImproperlyConfigured(
        "SHOP_PAYMENT_GATEWAY is the fake processor, which approves orders nobody paid for. "
        "Set SHOP_PAYMENT_GATEWAY to your provider's gateway, or SHOP_DEMO_PAYMENTS=true for a demo shop."
    )

# TLS ends at the proxy in front of nginx (or at nginx itself); trust its header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Off only for a stack served over plain http on this machine (`make stack`).
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
