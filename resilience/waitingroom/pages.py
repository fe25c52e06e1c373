"""What a queued visitor gets: a page for browsers, JSON for apps."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.template import loader

from resilience.conf import get_setting
from resilience.responses import retry_later
from resilience.waitingroom.config import RoomConfig
from resilience.waitingroom.store import Visit


def estimated_wait(visit: Visit, config: RoomConfig) -> tuple[float, bool]:
    """Return (seconds, known): from the queue's measured pace (store.py), or the configured one until it can be measured."""
    if visit.admissions_in_window >= get_setting(
        "WAITINGROOM_ESTIMATE_MIN_ADMISSIONS"
    ) and visit.window_seconds >= get_setting("WAITINGROOM_ESTIMATE_MIN_SECONDS"):
        per_second = visit.admissions_in_window / visit.window_seconds
        return visit.position / per_second, True
    return visit.position / (config.new_users_per_minute / 60), False


def describe_wait(seconds: float) -> str:
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {round(minutes / 60, 1):g} hours"


def refresh_after(wait_seconds: float) -> int:
    """Seconds before a queued page asks again: after a share of the wait left (SHARE), at most LONGEST.

    Every poll is a request the shop serves, and whenever anyone waits the shop is past its
    capacity: polls after a fifth of the wait each made up half of an overload run's requests.
    After about half, a visitor still comes back before their turn unless the pace grows by
    half meanwhile, and one who comes back late still finds their place: the room keeps a
    ticket, and an admission, until the time it gave plus a grace (store.room_expect).
    The random spread keeps them out of lockstep.
    """
    low, high = get_setting("WAITINGROOM_REFRESH_SECONDS")
    longest = get_setting("WAITINGROOM_REFRESH_LONGEST_SECONDS")
    share = get_setting("WAITINGROOM_REFRESH_SHARE")
    shortest = min(longest * low / high, max(low, wait_seconds * share))
    return random.randint(round(shortest), round(shortest * high / low))


@dataclass(frozen=True)
class Wait:
    """What a queued visitor is told: the estimated wait, whether it is measured, and when to ask again."""

    seconds: float
    known: bool
    refresh: int


def wait_for(visit: Visit, config: RoomConfig) -> Wait:
    seconds, known = estimated_wait(visit, config) if visit.outcome == "queued" else (0.0, False)
    return Wait(seconds, known, refresh_after(seconds))


def waiting_response(
    request: HttpRequest, config: RoomConfig, visit: Visit, first_position: int, wait: Wait
) -> HttpResponse:
    """The queue page (HTTP 200, so browsers show it), or its JSON twin for Accept: application/json."""
    seconds, known, refresh = wait.seconds, wait.known, wait.refresh
    if "application/json" in request.headers.get("Accept", ""):
        body = json.dumps(
            {
                "status": visit.outcome,
                "position": visit.position,
                "queue_length": visit.queue_length,
                "estimated_wait_seconds": round(seconds),
                "wait_known": known,
                "refresh_after_seconds": refresh,
                "message": config.message,
            }
        )
        return retry_later(body, status=200, retry_after=refresh, content_type="application/json")
    # Counts the visitor's own step too: the front of the line is well on the way, not at 0%.
    progress = 100 * (first_position - visit.position + 1) / (max(first_position, visit.position) + 1)
    context = {
        "site_name": get_setting("WAITINGROOM_SITE_NAME"),
        "position": visit.position,
        "queue_length": visit.queue_length,
        "message": config.message,
        "wait_text": describe_wait(seconds),
        "wait_seconds": round(seconds),
        "wait_known": known,
        "refresh": refresh,
        "progress": max(1, min(99, round(progress))),
        "prequeued": visit.outcome == "prequeued",
    }
    # 200, so browsers show the page; Retry-After is when it reloads.
    return retry_later(loader.render_to_string("resilience/waitingroom.html", context), status=200, retry_after=refresh)


def flood_response() -> HttpResponse:
    message = "Too many visitors from your network joined the queue. Please wait a few minutes before trying again."
    retry_after = get_setting("WAITINGROOM_FLOOD_RETRY_AFTER_SECONDS")
    return retry_later(message, status=429, retry_after=retry_after, content_type="text/plain; charset=utf-8")


def closed_response() -> HttpResponse:
    message = "The shop is very busy and cannot admit new visitors just now. Please try again in a minute."
    retry_after = get_setting("WAITINGROOM_CLOSED_RETRY_AFTER_SECONDS")
    return retry_later(message, status=503, retry_after=retry_after, content_type="text/plain; charset=utf-8")
