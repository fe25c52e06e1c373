"""Outgoing mail, from EMAIL_URL."""

from __future__ import annotations

from .env import BASE_DIR, env

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
    # The same files, one per message key: a confirmation sent again by a retry is kept once,
    # as a mail service that takes an idempotency key would (shop/mail.py).
    EMAIL_BACKEND = "shop.mail.IdempotentFileBackend"
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# filemail:////absolute/folder keeps every message as a file (`make stack`, audited by `make loadtest`).
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(BASE_DIR / "var" / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Stampede Shop <orders@stampede.example>")
EMAIL_TIMEOUT = 10
