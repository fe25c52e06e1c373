"""Payment gateways: the seam where a real provider plugs in.

``SHOP_PAYMENT_GATEWAY`` names the class. The fake one ships for development and
tests; its behaviour is chosen in settings (approve, decline, delay, unavailable).
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentGatewayUnavailable(Exception):
    """The gateway could not be reached or timed out: retry later."""


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str = ""
    decline_reason: str = ""


class PaymentGateway(Protocol):
    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, description: str) -> ChargeResult:
        """Charge once per idempotency key; a repeated key returns the first result."""


class FakeGateway:
    """An in-process stand-in for a card processor, honouring idempotency keys like Stripe does."""

    _ledger: dict[str, ChargeResult] = {}
    _lock = threading.Lock()

    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, description: str) -> ChargeResult:
        outcome = settings.SHOP_FAKE_PAYMENT_OUTCOME
        if outcome == "unavailable":
            raise PaymentGatewayUnavailable("fake gateway set to unavailable")
        if outcome == "delay":
            time.sleep(settings.SHOP_FAKE_PAYMENT_DELAY_SECONDS)
        with self._lock:
            if idempotency_key not in self._ledger:
                if outcome == "decline":
                    result = ChargeResult(approved=False, decline_reason="Card declined by the issuer.")
                else:
                    result = ChargeResult(approved=True, reference=f"fake_{uuid.uuid4().hex[:16]}")
                self._ledger[idempotency_key] = result
            return self._ledger[idempotency_key]

    @classmethod
    def charges(cls) -> dict[str, ChargeResult]:
        """Return a copy of every charge made, by idempotency key (for tests)."""
        with cls._lock:
            return dict(cls._ledger)


def get_gateway() -> PaymentGateway:
    """Return the configured payment gateway."""
    return import_string(settings.SHOP_PAYMENT_GATEWAY)()
