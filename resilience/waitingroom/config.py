"""The room's configuration as every process sees it: read from the database every few seconds."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError
from django.utils import timezone

from resilience.conf import get_setting
from resilience.waitingroom.models import WaitingRoomConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoomConfig:
    mode: str
    total_active_users: int
    new_users_per_minute: int
    session_seconds: int
    protected_paths: tuple[str, ...]
    message: str
    event_start: datetime | None
    event_end: datetime | None
    min_users_per_minute: int = 30
    target_latency_ms: int = 250
    target_queue_ms: int = 250
    max_users_per_minute: int | None = None

    @classmethod
    def from_model(cls, row: WaitingRoomConfig) -> RoomConfig:
        paths = tuple(line.strip() for line in row.protected_paths.splitlines() if line.strip()) or ("/",)
        return cls(
            row.mode,
            row.total_active_users,
            row.new_users_per_minute,
            row.session_duration * 60,
            paths,
            row.message,
            row.event_start,
            row.event_end,
            row.min_users_per_minute,
            row.target_latency_ms,
            row.target_queue_ms,
            row.max_users_per_minute,
        )

    def phase(self, now: datetime | None = None) -> str:
        """What the room does now: "off", "auto", "on", or "pre" (before a scheduled event)."""
        now = now or timezone.now()
        if self.event_start and now < self.event_start:
            return "pre"
        if self.event_start and (self.event_end is None or now < self.event_end):
            return "on"
        return self.mode

    def guards(self, path: str) -> bool:
        return path.startswith(self.protected_paths)


OFF = RoomConfig("off", 1, 1, 60, ("/",), "", None, None)


class _ConfigCache:
    """Each process re-reads the row every CONFIG_REFRESH_SECONDS: a change reaches all replicas in seconds."""

    def __init__(self) -> None:
        self._config: RoomConfig | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()
        self.pinned: RoomConfig | None = None  # set by resilience.testing.override_waitingroom

    def get(self) -> RoomConfig:
        if self.pinned is not None:
            return self.pinned
        if self._config is not None and time.monotonic() - self._read_at < get_setting(
            "WAITINGROOM_CONFIG_REFRESH_SECONDS"
        ):
            return self._config
        with self._lock:
            try:
                row = WaitingRoomConfig.objects.filter(pk=1).first()
                self._config = RoomConfig.from_model(row) if row else OFF
            except DatabaseError:
                # The database is down: keep the last configuration we knew.
                logger.warning("Could not read the waiting room configuration", exc_info=True)
                self._config = self._config or OFF
            self._read_at = time.monotonic()
            return self._config

    def clear(self) -> None:
        self._config = None

    def prime(self, config: RoomConfig) -> None:
        """Take ``config`` as just read (tests; a save in this process)."""
        self._config, self._read_at = config, time.monotonic()


config_cache = _ConfigCache()


def current_config() -> RoomConfig:
    return config_cache.get()
