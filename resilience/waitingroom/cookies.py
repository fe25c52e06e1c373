"""Tickets and passes: signed cookies (django.core.signing) with a maximum age.

A tampered or expired cookie reads as no cookie at all: its holder starts again at the
back of the queue. Clearing cookies only buys a new ticket at the back, too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from resilience.conf import get_setting

TICKET_COOKIE = "wr_ticket"
PASS_COOKIE = "wr_pass"
TICKET_SALT = "resilience.waitingroom.ticket"
PASS_SALT = "resilience.waitingroom.pass"


@dataclass(frozen=True)
class Ticket:
    id: str
    first_position: int  # where its holder started, for the progress bar


@dataclass(frozen=True)
class Pass:
    visitor: str
    issued: float
    nonce: str  # rotated on each renewal: a copied pass falls out once either holder renews

    @property
    def due_for_renewal(self) -> bool:
        return time.time() - self.issued > get_setting("WAITINGROOM_RENEW_AFTER_SECONDS")


def _read(request: HttpRequest, name: str, salt: str, max_age: float) -> dict | None:
    value = request.COOKIES.get(name)
    if not value:
        return None
    try:
        payload = signing.loads(value, salt=salt, max_age=max_age)
    except signing.BadSignature:  # tampered, or older than max_age
        return None
    return payload if isinstance(payload, dict) else None


def ticket_read(request: HttpRequest) -> Ticket | None:
    """Return the request's ticket, or None if it has none that is signed and young enough."""
    payload = _read(request, TICKET_COOKIE, TICKET_SALT, get_setting("WAITINGROOM_TICKET_MAX_AGE_SECONDS"))
    if not payload or not isinstance(payload.get("t"), str) or not isinstance(payload.get("p"), int):
        return None
    return Ticket(payload["t"], payload["p"])


def pass_read(request: HttpRequest, session_seconds: int) -> Pass | None:
    """Return the request's pass, or None if it has none that is signed and renewed within ``session_seconds``."""
    # The signature's age is the time since the last renewal: a visitor inactive for
    # longer than the session duration has no pass any more.
    payload = _read(request, PASS_COOKIE, PASS_SALT, session_seconds)
    if not payload or not isinstance(payload.get("v"), str) or not isinstance(payload.get("i"), (int, float)):
        return None
    nonce = payload.get("n")
    return Pass(payload["v"], payload["i"], nonce if isinstance(nonce, str) else "")


def _set(response: HttpResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
    )


def ticket_sign(response: HttpResponse, ticket: Ticket) -> None:
    """Set the signed ticket cookie on ``response``."""
    value = signing.dumps({"t": ticket.id, "p": ticket.first_position}, salt=TICKET_SALT)
    _set(response, TICKET_COOKIE, value, get_setting("WAITINGROOM_TICKET_MAX_AGE_SECONDS"))


def pass_sign(response: HttpResponse, visitor: str, session_seconds: int, nonce: str) -> None:
    """Set the signed pass cookie on ``response``, issued now, and drop the ticket it replaces."""
    value = signing.dumps({"v": visitor, "i": time.time(), "n": nonce}, salt=PASS_SALT)
    _set(response, PASS_COOKIE, value, session_seconds)
    response.delete_cookie(TICKET_COOKIE, samesite="Lax")
