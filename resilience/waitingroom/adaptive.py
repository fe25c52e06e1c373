"""Adaptive admission: in auto mode the room engages only past the shop's capacity, and paces itself to it.

Every process notes how long requests waited in front of the app (X-Request-Start, seen by
the load-shedding middleware) and how long the watched paths (checkout) took in all, from
that stamp until the response left the app (timed there too), and about once a second
publishes the recent 95th percentile of each to Redis. About once a second one process,
whichever takes a short lock, reads every process's figures and moves the room's pace:

- While every signal is within its target the room stays open: everyone is let in, up to the
  room's maximum (``max_users_per_minute``: the capacity the ramp measured, set by the operator;
  blank, the safety setting WAITINGROOM_ADAPTIVE_MAX_PER_MINUTE). Newcomers arriving faster than
  that engage the room at once, at the maximum: the signals show an overload only 10-20 s after
  its visitors were let in, and at twice the capacity those let in meanwhile held checkout's p95
  over 700 ms for a minute.
- When a signal goes over its target and stays over (WAITINGROOM_ADAPTIVE_ENGAGE_AFTER_SECONDS),
  or goes past a multiple of it at once (WAITINGROOM_ADAPTIVE_ENGAGE_AT_ONCE_RATIO), the room
  engages: a rise that passes within seconds at a spike's onset is not an overload,
  while a real one keeps rising. It engages at the pace the shop was actually admitting over the
  last window (the capacity it just showed; while open, every newcomer who reached the app, each
  counted once by address), cut in proportion to how far over the signal is (target / signal, as
  a gradient limiter scales its limit), never by more than a factor. Engaged, it cuts again at
  most once in WAITINGROOM_ADAPTIVE_CUT_EVERY_SECONDS while the signal stays over, the same way:
  with a line of thousands the line's own requests keep a signal near its target whatever the
  pace, and a full cut each time took the pace to a quarter of capacity. A signal just over its
  target (within WAITINGROOM_ADAPTIVE_DEAD_BAND) holds the pace instead.
- While engaged and every signal is under half its target the pace climbs by a share of itself
  each second (no fixed ceiling, so it finds capacity that replicas added), but not within a
  round trip of a cut (the same wait as between cuts), and only while the
  pace is used: a pace far above what is being admitted says nothing about what the shop can
  take (as TCP grows its window only while the sender fills it, RFC 7661). Between half the
  target and the target it holds: the visitors let in at the last pace have not all reached
  checkout yet, so a signal near its target will still rise.
- The room lets go (hysteresis) once every signal stayed under half its target for a while
  and nobody waits.

Once a round trip, as TCP cuts its window: the p95 still holds the samples from before a cut
for a window after it, and visitors let in before the cut load the shop for their whole visit,
so a cut shows only after that. Cutting sooner drives the pace far below capacity and back.

Written here rather than taken from a library: the decision must be shared by every
replica through the room's own Redis, and the rule is a few lines (like TCP's AIMD).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

from resilience.conf import get_setting
from resilience.waitingroom.config import RoomConfig
from resilience.waitingroom.store import RoomStoreError, room_key, room_redis

SIGNALS = ("queue", "latency")


@dataclass(frozen=True)
class Decision:
    """What the controller decided last, as every process reads it."""

    engaged: bool
    pace: float  # visitors let in per minute while engaged
    measured: dict[str, float]  # signal -> worst recent p95 over all processes, seconds
    reason: str
    decreased_at: float = 0.0  # when the pace was last cut (epoch seconds)
    over_since: float = 0.0  # open, when a signal went over its target and stayed (0: within)


class Pressure:
    """This process's recent samples of each signal, published to Redis about once a second."""

    def __init__(self) -> None:
        self._samples: dict[str, deque[tuple[float, float]]] = {signal: deque(maxlen=2000) for signal in SIGNALS}
        self._newcomers: set[str] = set()  # addresses of visitors with no pass, since the last publish
        self._lock = threading.Lock()
        self._published = 0.0
        self.key_suffix = f"{socket.gethostname()}:{os.getpid()}"

    def observe(self, signal: str, seconds: float) -> None:
        with self._lock:
            self._samples[signal].append((time.monotonic(), seconds))

    def newcomer(self, address: str) -> None:
        """A visitor with no pass reached the app while the room was open (one count per address)."""
        if address:
            with self._lock:
                self._newcomers.add(address)

    def take_newcomers(self) -> set[str]:
        """The newcomers' addresses noted since the last call, forgetting them here."""
        with self._lock:
            newcomers, self._newcomers = self._newcomers, set()
        return newcomers

    def p95s(self) -> dict[str, float]:
        """The 95th percentile of each signal over the last window, where there were enough samples."""
        horizon = time.monotonic() - get_setting("WAITINGROOM_ADAPTIVE_WINDOW_SECONDS")
        figures = {}
        with self._lock:
            for signal, samples in self._samples.items():
                while samples and samples[0][0] < horizon:
                    samples.popleft()
                if len(samples) >= get_setting("WAITINGROOM_ADAPTIVE_MIN_SAMPLES"):
                    ordered = sorted(seconds for _, seconds in samples)
                    figures[signal] = ordered[int(0.95 * (len(ordered) - 1))]
        return figures

    def recent(self, signal: str) -> list[float]:
        """The samples of ``signal`` this process holds, oldest first."""
        with self._lock:
            return [seconds for _, seconds in self._samples[signal]]

    def reset(self) -> None:
        """Forget every sample, and publish at the next chance (tests; a process starting anew)."""
        with self._lock:
            for samples in self._samples.values():
                samples.clear()
        self._published = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._published < 1.0:
            return False
        self._published = now
        return True


def decide(
    previous: Decision,
    *,
    config: RoomConfig,
    measured: dict[str, float],
    admitted_per_minute: float,
    waiting: int,
    now: float,
    calm_since: float,
    surge_per_minute: float = 0.0,
) -> tuple[Decision, float]:
    """The next decision from the last one and what was measured; also when calm began (0: not calm).

    ``admitted_per_minute`` is the pace the room let visitors in at over the last window,
    straight in or from the queue: what the shop was serving when the signals were read;
    ``surge_per_minute`` the newcomers' pace over the last few seconds (WAITINGROOM_ADAPTIVE_SURGE_SECONDS).
    """
    targets = {"queue": config.target_queue_ms / 1000, "latency": config.target_latency_ms / 1000}
    ratio, signal = max(((measured[s] / targets[s], s) for s in measured), default=(0.0, ""))
    ceiling = most_per_minute(config)
    floor = float(min(config.min_users_per_minute, ceiling))
    arriving = max(admitted_per_minute, surge_per_minute)
    if ratio <= 1 and not previous.engaged and arriving > ceiling:
        reason = f"newcomers arrive at {arriving:.0f} a minute, past the room's maximum of {ceiling:.0f}"
        return Decision(True, ceiling, measured, reason, decreased_at=now), 0.0
    if ratio > 1:
        reason = f"{signal} p95 {measured[signal] * 1000:.0f} ms is over its target of {targets[signal] * 1000:.0f} ms"
        over_since = previous.over_since or now
        if (
            not previous.engaged
            and ratio < get_setting("WAITINGROOM_ADAPTIVE_ENGAGE_AT_ONCE_RATIO")
            and now - over_since < get_setting("WAITINGROOM_ADAPTIVE_ENGAGE_AFTER_SECONDS")
        ):
            reason += f" (for {now - over_since:.0f} s): the room engages if it stays over"
            return Decision(False, ceiling, measured, reason, over_since=over_since), 0.0
        since_cut = now - previous.decreased_at
        if previous.engaged and since_cut < get_setting("WAITINGROOM_ADAPTIVE_CUT_EVERY_SECONDS"):
            reason += f"; the pace was cut {since_cut:.0f} s ago and holds until that shows"
            return replace(previous, measured=measured, reason=reason), 0.0
        if previous.engaged and ratio <= 1 + get_setting("WAITINGROOM_ADAPTIVE_DEAD_BAND"):
            reason += ", by less than the dead band: the pace holds"
            return replace(previous, measured=measured, reason=reason), 0.0
        # Engaging: from the pace the shop was overloaded at, not from a configured ceiling.
        start = min(previous.pace, admitted_per_minute) if previous.engaged else admitted_per_minute
        cut = max(get_setting("WAITINGROOM_ADAPTIVE_DECREASE"), targets[signal] / measured[signal])
        pace = min(ceiling, max(floor, start * cut))
        return Decision(True, pace, measured, reason, decreased_at=now), 0.0
    if not previous.engaged:
        return Decision(False, ceiling, measured, "every signal is within its target"), 0.0
    calm_since = (calm_since or now) if ratio < 0.5 else 0.0
    if calm_since and now - calm_since >= get_setting("WAITINGROOM_ADAPTIVE_RELEASE_SECONDS") and waiting == 0:
        return Decision(False, ceiling, measured, "calm again: every signal under half its target"), 0.0
    if admitted_per_minute < previous.pace / 2:
        reason = "within target; the pace holds: it is not used (fewer arrive than it would let in)"
        return replace(previous, measured=measured, reason=reason), calm_since
    if ratio >= 0.5:
        reason = f"{signal} p95 {measured[signal] * 1000:.0f} ms is within its target, over half: the pace holds"
        return replace(previous, measured=measured, reason=reason), calm_since
    since_cut = now - previous.decreased_at
    if since_cut < get_setting("WAITINGROOM_ADAPTIVE_CUT_EVERY_SECONDS"):
        # The calm right after a cut is the lull before those let in meanwhile reach checkout.
        reason = (
            f"every signal under half its target; the pace was cut {since_cut:.0f} s ago and holds until that shows"
        )
        return replace(previous, measured=measured, reason=reason), calm_since
    pace = min(ceiling, previous.pace * (1 + get_setting("WAITINGROOM_ADAPTIVE_INCREASE")))
    reason = "every signal under half its target: the pace climbs"
    return Decision(True, pace, measured, reason, previous.decreased_at), calm_since


def most_per_minute(config: RoomConfig) -> float:
    """The most visitors auto mode lets in a minute: the room's maximum, else the safety setting."""
    safety = float(get_setting("WAITINGROOM_ADAPTIVE_MAX_PER_MINUTE"))
    return min(safety, float(config.max_users_per_minute)) if config.max_users_per_minute else safety


pressure = Pressure()
_READY = Decision(False, 0.0, {}, "not measured yet")


class _Current:
    """The last decision this process read, trusted for a second (like the room's configuration)."""

    def __init__(self) -> None:
        self.decision, self.read_at = _READY, 0.0

    def get(self, config: RoomConfig) -> Decision:
        """The room's decision, publishing this process's figures and steering when due (raises RoomStoreError)."""
        if time.monotonic() - self.read_at >= 1.0:
            self.read_at = time.monotonic()
            try:
                if pressure.due():
                    self._publish_and_steer(config)
                self.decision = read_decision()[0]
            except RoomStoreError:
                raise
            except Exception as error:  # noqa: BLE001 - redis-py's errors, the breaker's: the store is down
                raise RoomStoreError("adaptive") from error
        return self.decision

    def _publish_and_steer(self, config: RoomConfig) -> None:
        client = room_redis()
        key = room_key(f"pressure:{pressure.key_suffix}")
        figures = pressure.p95s()
        pipe = client.pipeline()
        pipe.delete(key)
        if figures:
            pipe.hset(key, mapping=figures)
        pipe.expire(key, get_setting("WAITINGROOM_ADAPTIVE_WINDOW_SECONDS"))
        newcomers = pressure.take_newcomers()
        if newcomers:
            this_second = newcomers_key(int(time.time()))
            pipe.pfadd(this_second, *newcomers)
            pipe.expire(this_second, get_setting("WAITINGROOM_ADAPTIVE_WINDOW_SECONDS") + 2)
        pipe.execute()
        if client.set(room_key("adaptive:lock"), "1", nx=True, px=900):
            steer(config)

    def clear(self) -> None:
        self.decision, self.read_at = _READY, 0.0


def newcomers_key(second: int) -> str:
    """The HyperLogLog of the addresses of visitors who reached the app with no pass in one second."""
    return room_key(f"newcomers:{second}")


def newcomers_per_minute(window: float) -> float:
    """Distinct newcomers who reached the app over the last window, every process's together, a minute.

    A HyperLogLog a second (0.8% standard error, 12 KB at most each): PFCOUNT over the window's
    keys counts their union, so a visitor seen by two replicas counts once.
    """
    now = int(time.time())
    keys = [newcomers_key(second) for second in range(now - int(window) + 1, now + 1)]
    return room_redis().pfcount(*keys) * 60 / window


def read_decision() -> tuple[Decision, float]:
    """The room's last decision and when calm began, from Redis (raises RoomStoreError)."""
    try:
        state = {k.decode(): v.decode() for k, v in room_redis().hgetall(room_key("adaptive")).items()}
    except Exception as error:  # noqa: BLE001 - the store is down
        raise RoomStoreError("adaptive") from error
    if not state:
        return _READY, 0.0
    measured = {signal: float(state[signal]) for signal in SIGNALS if signal in state}
    decision = Decision(
        state["engaged"] == "1",
        float(state["pace"]),
        measured,
        state["reason"],
        float(state.get("decreased_at", 0)),
        float(state.get("over_since", 0)),
    )
    return decision, float(state.get("calm_since", 0))


def steer(config: RoomConfig) -> Decision:
    """Read every process's figures, decide, and store the decision for all (once a second, one process)."""
    client = room_redis()
    measured: dict[str, float] = {}
    for key in client.scan_iter(match=room_key("pressure:*"), count=200):
        for signal, value in client.hgetall(key).items():
            signal = signal.decode()
            measured[signal] = max(measured.get(signal, 0.0), float(value))
    previous, calm_since = read_decision()
    window = get_setting("WAITINGROOM_ADAPTIVE_WINDOW_SECONDS")
    seconds, micros = client.time()  # the clock the room's scripts stamp admissions with
    admitted = client.zcount(room_key("admissions"), seconds + micros / 1e6 - window, "+inf") * 60 / window
    surge = 0.0
    if not previous.engaged:
        # Open, the room gives a pass only on responses no shared cache keeps (middleware._open),
        # so its admissions miss the newcomers whose pages were cacheable; engaged, it admits
        # every newcomer. Counting each newcomer once while open measures the same thing.
        admitted = max(admitted, newcomers_per_minute(window))
        surge = newcomers_per_minute(get_setting("WAITINGROOM_ADAPTIVE_SURGE_SECONDS"))
    decision, calm_since = decide(
        previous,
        config=config,
        measured=measured,
        admitted_per_minute=admitted,
        waiting=client.zcard(room_key("queue")),
        now=time.time(),
        calm_since=calm_since,
        surge_per_minute=surge,
    )
    client.hset(
        room_key("adaptive"),
        mapping={
            "engaged": int(decision.engaged),
            "pace": decision.pace,
            "reason": decision.reason,
            "calm_since": calm_since,
            "decreased_at": decision.decreased_at,
            "over_since": decision.over_since,
            **{signal: decision.measured.get(signal, 0.0) for signal in SIGNALS},
        },
    )
    return decision


current = _Current()
