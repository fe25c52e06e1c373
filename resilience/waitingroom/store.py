"""The room's shared state, changed in single atomic steps: a Lua script each (room.lua and
its entry points), except freeing a slot, which is one ZREM and needs no script.
Adaptive admission keeps a few plain keys of its own beside it (adaptive.py).

With django-redis configured, the state lives in that Redis, shared by every replica.
In the embedded default (no Redis) it lives in an in-process fakeredis, which runs the
very same scripts, so `make run` demonstrates the room within its one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from resilience.conf import get_setting
from resilience.waitingroom.config import RoomConfig

SCRIPTS = Path(__file__).parent
KEY_NAMES = ("queue", "seen", "active", "bucket", "admissions", "prequeue", "sequence", "admitted:", "from_queue")


class RoomStoreError(Exception):
    """The room's state could not be read or changed (Redis is down)."""


@dataclass(frozen=True)
class Visit:
    """What the room decided for one request."""

    outcome: str  # "admitted", "queued", "prequeued", "unknown" (ticket gone), "flood"
    position: int = 0
    queue_length: int = 0
    admissions_in_window: int = 0
    window_seconds: float = 0.0
    nonce: str = ""  # admitted: what the pass must show at its first renewal


@dataclass(frozen=True)
class RoomStatus:
    queue_length: int
    active_users: int
    admissions_in_window: int
    window_seconds: float


@cache
def _client():
    alias = get_setting("WAITINGROOM_CACHE_ALIAS")
    if settings.CACHES[alias]["BACKEND"].startswith("django_redis"):
        from django_redis import get_redis_connection

        return get_redis_connection(alias)
    import fakeredis

    return fakeredis.FakeRedis()


@cache
def _script(name: str):
    source = (SCRIPTS / "room.lua").read_text() + "\n" + (SCRIPTS / f"{name}.lua").read_text()
    return _client().register_script(source)


def _keys() -> list[str]:
    return [room_key(name) for name in KEY_NAMES]


def room_key(name: str) -> str:
    """The Redis key of one part of the room's state."""
    return f"{get_setting('WAITINGROOM_KEY_PREFIX')}:{name}"


def room_redis():
    """The Redis client holding the room's state (for adaptive.py's few plain keys)."""
    return _client()


def _run(name: str, config: RoomConfig, *args, extra_keys: tuple[str, ...] = ()):
    common = (
        config.total_active_users,
        config.new_users_per_minute,
        get_setting("WAITINGROOM_ABANDON_AFTER_SECONDS"),
        get_setting("WAITINGROOM_CLAIM_SECONDS"),
        config.session_seconds,
    )
    try:
        return _script(name)(keys=[*_keys(), *extra_keys], args=[*common, *args])
    except Exception as error:  # noqa: BLE001 - redis-py's errors, the breaker's, anything: the store is down
        raise RoomStoreError(name) from error


def _visit(reply: list) -> Visit:
    outcome = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
    if outcome == "queued":
        return Visit(
            outcome,
            position=int(reply[1]),
            queue_length=int(reply[2]),
            admissions_in_window=int(reply[3]),
            window_seconds=float(reply[4]),
        )
    if outcome == "prequeued":
        return Visit(outcome, queue_length=int(reply[1]))
    if outcome == "admitted":
        return Visit(outcome, nonce=_text(reply[1]))
    return Visit(outcome)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def room_arrive(*, config: RoomConfig, phase: str, ticket: str, client_address: str) -> Visit:
    """A new visitor: admit them at once (auto mode, room to spare), queue them, or refuse a flood."""
    address_key = f"{get_setting('WAITINGROOM_KEY_PREFIX')}:address:{client_address}"
    reply = _run(
        "arrive",
        config,
        ticket,
        phase,
        get_setting("WAITINGROOM_TICKETS_PER_ADDRESS"),
        get_setting("WAITINGROOM_ADDRESS_WINDOW_SECONDS"),
        extra_keys=(address_key,),
    )
    return _visit(reply)


def room_poll(*, config: RoomConfig, phase: str, ticket: str) -> Visit:
    """A visitor with a ticket is back: admit them if it is their turn, else say where they are."""
    return _visit(_run("poll", config, ticket, phase))


def room_expect(*, config: RoomConfig, ticket: str, seconds: int) -> None:
    """A queued visitor was asked back in ``seconds``: keep their place (and any admission) until then, plus a grace."""
    _run("expect", config, ticket, seconds)


def room_renew(*, config: RoomConfig, visitor: str, nonce: str) -> str | None:
    """Extend an admitted visitor's slot and return the pass's next nonce; None if the slot
    had expired or been freed, or ``nonce`` is stale (the pass was copied and renewed elsewhere)."""
    renewed = _run("renew", config, visitor, nonce)
    return _text(renewed) if renewed else None


def room_hold(*, config: RoomConfig, visitor: str) -> None:
    """Count a visitor already buying as active (their slot expires like any other)."""
    _run("hold", config, visitor)


def room_release(*, visitor: str, also: tuple[str, ...] = ()) -> None:
    """Free an admitted visitor's slot at once (they completed an order), and any ``also`` named, in one call.

    One ZREM, atomic by itself: no script, as nothing else is read or changed with it.
    """
    try:
        _client().zrem(_keys()[2], visitor, *also)
    except Exception as error:  # noqa: BLE001
        raise RoomStoreError("release") from error


def room_status(*, config: RoomConfig, phase: str) -> RoomStatus:
    queue_length, active, admissions, span = _run("status", config, phase)
    return RoomStatus(int(queue_length), int(active), int(admissions), float(span))


def room_reset() -> None:
    """Forget every ticket and admission (for tests and `manage.py waitingroom reset`)."""
    client = _client()
    prefix = get_setting("WAITINGROOM_KEY_PREFIX")
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
