"""The room's gauges, read from its shared state at scrape time (the same on every replica)."""
from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from resilience.waitingroom.config import current_config
from resilience.waitingroom.pages import estimated_wait
from resilience.waitingroom.store import RoomStoreError, Visit, room_status


class WaitingRoomCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        config = current_config()
        phase = config.phase()
        try:
            status = room_status(config=config, phase=phase)
        except RoomStoreError:
            return
        per_minute = 60 * status.admissions_in_window / status.window_seconds if status.window_seconds else 0.0
        joining_now = Visit("queued", status.queue_length + 1, status.queue_length + 1,
                            status.admissions_in_window, status.window_seconds)
        values = {
            "queue_length": ("Visitors waiting in the queue.", status.queue_length),
            "active_users": ("Admitted visitors currently active.", status.active_users),
            "active_limit": ("The configured total_active_users.", config.total_active_users),
            "admissions_per_minute": ("Measured admission rate.", per_minute),
            "estimated_wait_seconds": ("Estimated wait for a visitor joining now.", estimated_wait(joining_now, config)[0]),
            "engaged": ("1 while the room queues new visitors.", float(phase in ("on", "pre") or status.queue_length > 0)),
        }
        for name, (description, value) in values.items():
            yield GaugeMetricFamily(f"stampede_waitingroom_{name}", description, value=value)
