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
    admitted = cookies.read_pass(request, current_config().session_seconds)
    if admitted is None:
        return
    try:
        room_release(visitor=admitted.visitor)
    except RoomStoreError:
        logger.warning("Could not free a waiting room slot; it expires by itself")
    response.delete_cookie(cookies.PASS_COOKIE, samesite="Lax")
