"""`manage.py waitingroom on|off|auto|status|reset`: switch the room for every replica."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from resilience.waitingroom.adaptive import read_decision
from resilience.waitingroom.config import RoomConfig
from resilience.waitingroom.models import WaitingRoomConfig
from resilience.waitingroom.store import RoomStoreError, room_reset, room_status

NUMBERS = {
    "total_active_users": "--total-active-users",
    "new_users_per_minute": "--new-users-per-minute",
    "min_users_per_minute": "--min-users-per-minute",
    "max_users_per_minute": "--max-users-per-minute",
    "target_latency_ms": "--target-latency-ms",
    "target_queue_ms": "--target-queue-ms",
    "session_duration": "--session-duration",
}


class Command(BaseCommand):
    help = "Turn the waiting room on, off or to auto, set its numbers, or show its state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["on", "off", "auto", "status", "reset"])
        parser.add_argument("--total-active-users", type=int, help="on mode: admitted visitors active at once, at most")
        parser.add_argument("--new-users-per-minute", type=int, help="on mode: visitors let in per minute")
        parser.add_argument("--session-duration", type=int, help="minutes an admitted visitor stays admitted idle")
        parser.add_argument("--min-users-per-minute", type=int, help="auto mode, overloaded: the pace's floor")
        parser.add_argument(
            "--max-users-per-minute",
            type=int,
            help="auto mode: the pace's maximum, from the capacity the ramp measures",
        )
        parser.add_argument("--target-latency-ms", type=int, help="auto mode engages when checkout's p95 is over this")
        parser.add_argument("--target-queue-ms", type=int, help="...or when requests wait longer than this (p95)")
        parser.add_argument("--message", help="the text shown to waiting visitors")
        parser.add_argument("--protected-paths", help="comma-separated path prefixes to guard (default /)")
        parser.add_argument("--event-start", help="ISO date-time: visitors before it wait in a random pre-queue")
        parser.add_argument("--event-end", help="ISO date-time the event's queue ends")
        parser.add_argument("--no-event", action="store_true", help="clear a scheduled event")

    def handle(self, *args, action: str, **options) -> None:
        row = WaitingRoomConfig.load()
        if action == "reset":
            room_reset()
            self.stdout.write("Every ticket and admission is forgotten.")
        elif action != "status":
            self._apply(row, action, options)
        self._report(row)

    def _apply(self, row: WaitingRoomConfig, mode: str, options: dict) -> None:
        row.mode = mode
        for field in NUMBERS:
            if options[field] is not None:
                setattr(row, field, options[field])
        if options["message"] is not None:
            row.message = options["message"]
        if options["protected_paths"] is not None:
            row.protected_paths = "\n".join(p.strip() for p in options["protected_paths"].split(",") if p.strip())
        if options["no_event"]:
            row.event_start = row.event_end = None
        for name in ("event_start", "event_end"):
            if options[name] is not None:
                moment = parse_datetime(options[name])
                if moment is None:
                    raise CommandError(f"--{name.replace('_', '-')}: not a date-time: {options[name]!r}")
                setattr(row, name, moment)
        try:
            row.full_clean()
        except ValidationError as error:
            raise CommandError(
                "; ".join(
                    " ".join(msgs) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(msgs)}"
                    for field, msgs in error.message_dict.items()
                )
            ) from error
        row.save()
        self.stdout.write(self.style.SUCCESS(f"Waiting room is now {mode}; every replica follows within seconds."))

    def _report(self, row: WaitingRoomConfig) -> None:
        config = RoomConfig.from_model(row)
        self.stdout.write(
            f"mode: {row.mode} (now: {config.phase()})\n"
            f"total active users: {row.total_active_users}\nnew users per minute: {row.new_users_per_minute}\n"
            f"session duration: {row.session_duration} min\nprotected paths: {', '.join(config.protected_paths)}\n"
            f"event: {row.event_start or '-'} to {row.event_end or '-'}\n"
            f"auto mode engages over: checkout p95 {row.target_latency_ms} ms, queue p95 {row.target_queue_ms} ms "
            f"(then paces new visitors to what the shop serves, at least {row.min_users_per_minute}/min"
            f"{f', at most {row.max_users_per_minute}/min' if row.max_users_per_minute else ''})"
        )
        try:
            status = room_status(config=config, phase=config.phase())
            decision = read_decision()[0]
        except RoomStoreError:
            self.stdout.write("state: unavailable (Redis is down)")
            return
        self.stdout.write(
            f"waiting: {status.queue_length}\nactive: {status.active_users}\n"
            f"let in from the queue in the last {round(status.window_seconds)} s: {status.admissions_in_window}"
        )
        if row.mode == "auto":
            state = f"engaged, pace {decision.pace:.0f}/min" if decision.engaged else "not engaged"
            self.stdout.write(f"adaptive: {state}: {decision.reason}")
