"""What the shop calls: free an admitted visitor's slot once they are done."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from resilience.waitingroom import cookies
from resilience.waitingroom.config import current_config
from resilience.waitingroom.store import RoomStoreError, room_release

logger = logging.getLogger(__name__)


def waitingroom_release(request: HttpRequest, response: HttpResponse) -> None:
    """Free the visitor's active slot at once (they completed an order) and drop their pass."""
    admitted = cookies.pass_read(request, current_config().session_seconds)
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    # The pass's slot, and the slot of a customer who was already buying (middleware's room_hold).
    visitors = ([admitted.visitor] if admitted else []) + ([f"buyer:{session_key}"] if session_key else [])
    if visitors:
        try:
            room_release(visitor=visitors[0], also=tuple(visitors[1:]))
        except RoomStoreError:
            logger.warning("Could not free a waiting room slot; it expires by itself")
    if admitted:
        response.delete_cookie(cookies.PASS_COOKIE, samesite="Lax")
