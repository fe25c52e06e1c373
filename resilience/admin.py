"""The waiting room in the Django admin: one page, its settings and the room's live state."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from resilience.waitingroom.config import RoomConfig, config_cache
from resilience.waitingroom.models import WaitingRoomConfig
from resilience.waitingroom.store import RoomStoreError, room_status


@admin.register(WaitingRoomConfig)
class WaitingRoomConfigAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["mode", "live_state"]}),
        ("Limits", {"fields": ["total_active_users", "new_users_per_minute", "session_duration"]}),
        (
            "Auto mode: engage on overload",
            {"fields": ["target_latency_ms", "target_queue_ms", "min_users_per_minute", "max_users_per_minute"]},
        ),
        ("What is guarded and what visitors read", {"fields": ["protected_paths", "message"]}),
        ("Scheduled event (optional)", {"fields": ["event_start", "event_end"]}),
    ]
    readonly_fields = ["live_state"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the one row is created on first use (changelist_view, load())

    def has_delete_permission(self, request: HttpRequest, obj: WaitingRoomConfig | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # A singleton has no list: go straight to its page.
        WaitingRoomConfig.load()
        return HttpResponseRedirect(reverse("admin:resilience_waitingroomconfig_change", args=[1]))

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        config_cache.clear()  # this process at once; the others within seconds

    @admin.display(description="Now")
    def live_state(self, obj: WaitingRoomConfig) -> str:
        config = RoomConfig.from_model(obj)
        try:
            status = room_status(config=config, phase=config.phase())
        except RoomStoreError:
            return "The room's state cannot be read (Redis is unavailable)."
        return format_html(
            "{} waiting, {} of {} active, {} let in from the queue over the last {} s",
            status.queue_length,
            status.active_users,
            config.total_active_users,
            status.admissions_in_window,
            round(status.window_seconds),
        )
