"""Django's cached_db sessions, except that a forged session key reads as no session at all.

Django accepts any cookie value of 8 characters or more as a key and looks it up; one with
a NUL (``sessionid="\\000..."``, which http.cookies unquotes) reaches PostgreSQL, which refuses
it with an error: a 500 on every page that reads the session. Keys Django makes are 32
characters of VALID_KEY_CHARS, so nothing else can name a stored session.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBSessionStore

KEY_CHARS = frozenset(VALID_KEY_CHARS)
KEY_MAX_LENGTH = 40  # the Session model's session_key column


class SessionStore(CachedDBSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and len(key) <= KEY_MAX_LENGTH and set(key) <= KEY_CHARS
