"""The room's configuration: one row, edited in the admin or with `manage.py waitingroom`."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class WaitingRoomConfig(models.Model):
    class Mode(models.TextChoices):
        OFF = "off", "Off: nobody waits"
        ON = "on", "On: every new visitor queues"
        AUTO = "auto", "Auto: queue only when the limits are exceeded"

    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.OFF)
    total_active_users = models.PositiveIntegerField(
        default=500,
        validators=[MinValueValidator(1), MaxValueValidator(10_000_000)],
        help_text="On mode: admitted visitors active at once, at most. (Auto mode paces itself and caps nobody.)",
    )
    new_users_per_minute = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="On mode: visitors let in from the queue per minute. (Auto mode measures its own pace.)",
    )
    # Auto mode engages only past the shop's capacity, measured (adaptive.py): these say what
    # "past" means to a customer, and how slowly it may let people in at worst. No ceiling to guess.
    min_users_per_minute = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="Auto mode, overloaded: visitors let in per minute, at least.",
    )
    # The shop's measured capacity (`make loadtest SCENARIO=ramp`), not a guess: past it the
    # visitors let in during the signals' lag (10-20 s) load checkout for a minute after.
    max_users_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="Auto mode: visitors let in per minute, at most; newcomers arriving faster engage the room."
        " Set it from the capacity the ramp measures (the middle of its bracket, visitors a second x 60); blank: none.",
    )
    # Half the wait a customer notices (500 ms): visitors let in before the signals rise reach
    # checkout 20-30 s later, so a room engaging at 500 ms lets them in past it.
    target_latency_ms = models.PositiveIntegerField(
        default=250,
        validators=[MinValueValidator(10), MaxValueValidator(60_000)],
        help_text="Auto mode engages when the watched pages' (checkout's) p95 goes over this: half the wait"
        " a customer notices (500 ms), not the page's usual time.",
    )
    target_queue_ms = models.PositiveIntegerField(
        default=250,
        validators=[MinValueValidator(10), MaxValueValidator(60_000)],
        help_text="...or when requests wait longer than this (p95) for a thread before the app starts on them.",
    )
    session_duration = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="Minutes an admitted visitor stays admitted without activity (renewed on activity).",
    )
    protected_paths = models.TextField(
        default="/", help_text="Path prefixes the room guards, one per line. '/' guards the whole shop."
    )
    message = models.TextField(
        blank=True,
        default="We are very busy right now. Thank you for waiting: you will be let in shortly.",
        help_text="Shown to visitors in the queue.",
    )
    event_start = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Optional: visitors arriving before this wait in a pre-queue and are ordered randomly at the start.",
    )
    event_end = models.DateTimeField(null=True, blank=True, help_text="Optional: when the event's queue ends.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "waiting room"
        verbose_name_plural = "waiting room"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event_end__isnull=True)
                | models.Q(event_start__isnull=True)
                | models.Q(event_end__gt=models.F("event_start")),
                name="waitingroom_event_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(max_users_per_minute__isnull=True)
                | models.Q(max_users_per_minute__gte=models.F("min_users_per_minute")),
                name="waitingroom_max_pace_not_under_min",
                violation_error_message="The most visitors let in per minute cannot be under the least.",
            ),
        ]

    def __str__(self) -> str:
        return f"Waiting room ({self.get_mode_display()})"

    @classmethod
    def load(cls) -> WaitingRoomConfig:
        """Return the one configuration row, creating it (mode off) if needed."""
        config, _ = cls.objects.get_or_create(pk=1)
        return config

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # a singleton: every save is the one row
        super().save(*args, **kwargs)
