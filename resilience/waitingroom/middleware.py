"""Queue new visitors when the room is on; let everyone already shopping through.

Place it after SessionMiddleware and AuthenticationMiddleware (it may ask whether the
visitor holds a cart, through RESILIENCE_WAITINGROOM_ADMIT_IF: such a visitor passes on the
WAITINGROOM_BUYING_PATHS only, counted as active, and never during a scheduled event), and after the probe and
load-shedding middleware, which answer before it. Paths in WAITINGROOM_EXEMPT_PATHS
(admin, static files) and paths outside the room's protected paths are never queued.
In auto mode it lets everyone in while the shop keeps up and, once adaptive.py finds it past
its capacity, new visitors at the pace it measures; only the excess queues (the
load-shedding middleware times the WAITINGROOM_WATCHED_PATHS for it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.module_loading import import_string

from resilience.conf import get_setting
from resilience.instruments import WAITINGROOM_STORE_ERRORS
from resilience.waitingroom import adaptive, cookies
from resilience.waitingroom.config import RoomConfig, current_config
from resilience.waitingroom.pages import closed_response, flood_response, wait_for, waiting_response
from resilience.waitingroom.store import (
    RoomStoreError,
    room_arrive,
    room_expect,
    room_hold,
    room_poll,
    room_renew,
)

logger = logging.getLogger(__name__)
UNCAPPED = 2**31 - 1  # auto mode counts no admitted visitors against a cap: its pace protects the shop


def shared_cacheable(response: HttpResponse) -> bool:
    """Whether a shared cache may keep ``response`` (nginx keeps none that sets a cookie or is private)."""
    if response.cookies or response.status_code not in (200, 301, 302, 404):
        return False
    directives = response.get("Cache-Control", "").lower()
    return not any(directive in directives for directive in ("private", "no-store", "no-cache"))


def client_address(request: HttpRequest) -> str:
    """The visitor's address: the one our own proxies saw, not whatever a client claims."""
    proxies = get_setting("TRUSTED_PROXY_COUNT")
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class WaitingRoomMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt = tuple(get_setting("WAITINGROOM_EXEMPT_PATHS"))
        admit_if = get_setting("WAITINGROOM_ADMIT_IF")
        self.admit_if = import_string(admit_if) if admit_if else None
        self.buying = tuple(get_setting("WAITINGROOM_BUYING_PATHS"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        config = current_config()
        phase = config.phase()
        if phase == "off" or request.path.startswith(self.exempt) or not config.guards(request.path):
            return self.get_response(request)
        if phase == "auto":
            config, engaged = self._adapt(config)
            if not engaged and not self._known(request, config):
                return self._open(request, config)
        # Checkout's latency, for auto mode, is timed at the door (the load-shedding middleware).
        return self._guard_or_fail(request, config, phase)

    def _adapt(self, config: RoomConfig) -> tuple[RoomConfig, bool]:
        """Auto mode: everyone in while the shop keeps up; past its capacity, new visitors at the measured pace.

        Newcomers are let straight in while the pace has room and nobody waits; only the excess
        queues. Auto mode caps no active visitors and guesses no ceiling: the pace is adaptive.py's,
        at most the room's maximum (the capacity the operator measured).
        """
        try:
            decision = adaptive.current.get(config)
        except RoomStoreError:
            return config, True  # the room itself fails open or closed on its next call
        pace = decision.pace if decision.engaged else adaptive.most_per_minute(config)
        return replace(config, new_users_per_minute=max(1, round(pace)), total_active_users=UNCAPPED), decision.engaged

    def _known(self, request: HttpRequest, config: RoomConfig) -> bool:
        """The visitor holds the room's pass or ticket: renewing or claiming it is the room's usual work."""
        return bool(cookies.pass_read(request, config.session_seconds) or cookies.ticket_read(request))

    def _open(self, request: HttpRequest, config: RoomConfig) -> HttpResponse:
        """Auto mode, open: a newcomer is let in, and given a pass only on a response no shared cache could keep.

        A pass (a cookie) on a page nginx would cache makes nginx refuse to cache it, so every
        newcomer's landing page would be rendered by the app: measured, the room cost the
        campaign's page its microcache (66 hits against 2,584 with the room off) and engaged on
        the load it made itself. Every newcomer is counted once by address, pass or not: the
        pace the room engages at is what it was serving, in the unit it admits by once engaged.
        """
        address = client_address(request)
        adaptive.pressure.newcomer(address)
        response = self.get_response(request)
        if shared_cacheable(response):
            return response
        ticket = uuid.uuid4().hex
        try:
            visit = room_arrive(config=config, phase="auto", ticket=ticket, client_address=address)
        except RoomStoreError:
            WAITINGROOM_STORE_ERRORS.inc()
            return response  # served already, and the room is open
        if visit.outcome == "admitted":
            cookies.pass_sign(response, ticket, config.session_seconds, visit.nonce)
        return response

    def _guard_or_fail(self, request: HttpRequest, config: RoomConfig, phase: str) -> HttpResponse:
        try:
            response = self._guard(request, config, phase)
        except RoomStoreError:
            WAITINGROOM_STORE_ERRORS.inc()
            logger.warning("Waiting room store unavailable; failing %s", "open" if self._fail_open else "closed")
            return self.get_response(request) if self._fail_open else closed_response()
        if phase != "auto":
            # On mode (an event, or an operator's call) is a strict line: no shared cache (nginx)
            # may hand a page to a visitor who has not been let in. Auto mode protects the
            # shop's capacity, and a cached page costs it nothing: its pages stay cacheable.
            patch_cache_control(response, private=True)
        return response

    def _already_buying(self, request: HttpRequest, config: RoomConfig) -> bool:
        """A cart holder on the buying paths, outside a scheduled event (whose shuffle nobody skips)."""
        if self.admit_if is None or config.event_start is not None or not request.path.startswith(self.buying):
            return False
        return self.admit_if(request)

    @property
    def _fail_open(self) -> bool:
        return get_setting("WAITINGROOM_FAIL_OPEN")

    def _guard(self, request: HttpRequest, config: RoomConfig, phase: str) -> HttpResponse:
        admitted = cookies.pass_read(request, config.session_seconds)
        if admitted is not None:
            if not admitted.due_for_renewal:
                return self.get_response(request)
            nonce = room_renew(config=config, visitor=admitted.visitor, nonce=admitted.nonce)
            if nonce is not None:
                response = self.get_response(request)
                cookies.pass_sign(response, admitted.visitor, config.session_seconds, nonce)
                return response
        if self._already_buying(request, config):
            # The promise to a customer already buying: they may finish (cart, checkout),
            # counted as active; browsing on takes a pass like anyone else's.
            room_hold(config=config, visitor=f"buyer:{request.session.session_key}")
            return self.get_response(request)
        ticket = cookies.ticket_read(request)
        visit = room_poll(config=config, phase=phase, ticket=ticket.id) if ticket else None
        if visit is None or visit.outcome == "unknown":
            # No ticket, a forged or expired one, or one already used: the back of the queue.
            new_id = uuid.uuid4().hex
            visit = room_arrive(config=config, phase=phase, ticket=new_id, client_address=client_address(request))
            ticket = cookies.Ticket(new_id, visit.position)
        if visit.outcome == "flood":
            return flood_response()
        if visit.outcome == "admitted":
            response = self.get_response(request)
            cookies.pass_sign(response, ticket.id, config.session_seconds, visit.nonce)
            return response
        wait = wait_for(visit, config)
        room_expect(config=config, ticket=ticket.id, seconds=wait.refresh)
        response = waiting_response(request, config, visit, ticket.first_position, wait)
        cookies.ticket_sign(response, ticket)
        return response
