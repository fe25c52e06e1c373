"""The room's gauges, read from its shared state at scrape time (the same on every replica)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from resilience.waitingroom.adaptive import SIGNALS, read_decision
from resilience.waitingroom.config import current_config
from resilience.waitingroom.pages import estimated_wait
from resilience.waitingroom.store import RoomStoreError, Visit, room_status


class WaitingRoomCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        config = current_config()
        phase = config.phase()
        try:
            status = room_status(config=config, phase=phase)
            decision = read_decision()[0]
        except RoomStoreError:
            return
        adapting = phase == "auto" and decision.engaged
        per_minute = 60 * status.admissions_in_window / status.window_seconds if status.window_seconds else 0.0
        joining_now = Visit(
            "queued",
            status.queue_length + 1,
            status.queue_length + 1,
            status.admissions_in_window,
            status.window_seconds,
        )
        values = {
            "queue_length": ("Visitors waiting in the queue.", status.queue_length),
            "active_users": ("Admitted visitors currently active.", status.active_users),
            "active_limit": ("The configured total_active_users.", config.total_active_users),
            "admissions_per_minute": (
                "The queue's pace: visitors let in from it per minute, over the last 30 s.",
                per_minute,
            ),
            "estimated_wait_seconds": (
                "Estimated wait for a visitor joining now.",
                estimated_wait(joining_now, config)[0],
            ),
            "engaged": (
                "1 while the room queues new visitors.",
                float(phase in ("on", "pre") or status.queue_length > 0 or adapting),
            ),
            "adaptive_engaged": (
                "1 while auto mode paces new visitors: the shop is past its capacity.",
                float(adapting),
            ),
            "pace_per_minute": (
                "New visitors let in per minute at most: auto mode's measured pace (its maximum while it"
                " lets everyone in), else the configured one.",
                decision.pace if phase == "auto" and decision.pace else float(config.new_users_per_minute),
            ),
            "pace_floor_per_minute": ("The lowest pace auto mode slows to.", float(config.min_users_per_minute)),
        }
        for name, (description, value) in values.items():
            yield GaugeMetricFamily(f"stampede_waitingroom_{name}", description, value=value)
        targets = {"queue": config.target_queue_ms / 1000, "latency": config.target_latency_ms / 1000}
        for name, description, figures in (
            ("adaptive_target_seconds", "The p95 auto mode keeps each signal under.", targets),
            ("adaptive_measured_seconds", "The worst recent p95 of each signal over every process.", decision.measured),
        ):
            gauge = GaugeMetricFamily(f"stampede_waitingroom_{name}", description, labels=["signal"])
            for signal in SIGNALS:
                gauge.add_metric([signal], figures.get(signal, 0.0))
            yield gauge
