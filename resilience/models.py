"""Models of the resilience app (Django finds them here)."""

from resilience.waitingroom.models import WaitingRoomConfig

__all__ = ["WaitingRoomConfig"]
