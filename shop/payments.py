"""Payment gateways: the seam where a real provider plugs in.

``SHOP_PAYMENT_GATEWAY`` names the class. The fake one ships for development and
tests; its behaviour is chosen in settings (approve, decline, delay, unavailable).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
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


@dataclass(frozen=True)
class Charge:
    """One charge as the fake provider recorded it."""

    idempotency_key: str
    result: ChargeResult
    amount: str
    currency: str
    description: str


class MemoryLedger:
    """The fake provider's record of charges, in this process only (tests, `make run`)."""

    def __init__(self) -> None:
        self._charges: dict[str, Charge] = {}
        self._lock = threading.Lock()

    def charge_once(self, charge: Charge, decide: Callable[[], ChargeResult]) -> ChargeResult:
        with self._lock:
            if charge.idempotency_key not in self._charges:
                self._charges[charge.idempotency_key] = replace(charge, result=decide())
            return self._charges[charge.idempotency_key].result

    def all(self) -> list[Charge]:
        with self._lock:
            return list(self._charges.values())

    def clear(self) -> None:
        with self._lock:
            self._charges.clear()


class SQLiteLedger:
    """The fake provider's record of charges in a SQLite file, shared by every process of a stack.

    A real provider keeps one record however many workers call it; so must its stand-in,
    or a task redelivered to another worker process would look like a second charge.
    """

    SCHEMA = """CREATE TABLE IF NOT EXISTS charges (
        idempotency_key TEXT PRIMARY KEY, approved INTEGER NOT NULL, reference TEXT NOT NULL,
        decline_reason TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
        description TEXT NOT NULL, charged_at TEXT NOT NULL)"""

    TIMEOUT_SECONDS = 30

    def __init__(self, path: Path) -> None:
        self.path = path
        # Many processes (or threads) may open a new ledger at once. Switching it to WAL takes
        # an exclusive lock that SQLite can refuse at once ("database is locked") without
        # waiting on the busy timeout: 21 of 300 rounds of 16 threads did. So opening retries.
        deadline = time.monotonic() + self.TIMEOUT_SECONDS
        while True:
            connection = self._connect()
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(self.SCHEMA)
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
            finally:
                connection.close()
            time.sleep(0.05)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=self.TIMEOUT_SECONDS, isolation_level=None)

    def charge_once(self, charge: Charge, decide: Callable[[], ChargeResult]) -> ChargeResult:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")  # one writer at a time: the key check and insert are atomic
            row = connection.execute(
                "SELECT approved, reference, decline_reason FROM charges WHERE idempotency_key = ?",
                [charge.idempotency_key],
            ).fetchone()
            if row is None:
                result = decide()
                connection.execute(
                    "INSERT INTO charges VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        charge.idempotency_key,
                        result.approved,
                        result.reference,
                        result.decline_reason,
                        charge.amount,
                        charge.currency,
                        charge.description,
                        timezone.now().isoformat(),
                    ],
                )
            else:
                result = ChargeResult(bool(row[0]), row[1], row[2])
            connection.execute("COMMIT")
            return result
        finally:
            connection.close()

    def all(self) -> list[Charge]:
        connection = self._connect()
        try:
            rows = connection.execute(
                "SELECT idempotency_key, approved, reference, decline_reason, amount, currency, description FROM charges"
            ).fetchall()
        finally:
            connection.close()
        return [
            Charge(key, ChargeResult(bool(ok), ref, why), amount, cur, text)
            for key, ok, ref, why, amount, cur, text in rows
        ]

    def clear(self) -> None:
        connection = self._connect()
        try:
            connection.execute("DELETE FROM charges")
        finally:
            connection.close()


@cache
def _ledger(path: str) -> MemoryLedger | SQLiteLedger:
    return SQLiteLedger(Path(path)) if path else MemoryLedger()


class FakeGateway:
    """A stand-in for a card processor, honouring idempotency keys like Stripe does.

    Its ledger lives in memory, or in the SQLite file SHOP_FAKE_PAYMENT_LEDGER names, which
    every process of a stack shares (`make stack` sets it; `make loadtest` audits it).
    """

    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, description: str) -> ChargeResult:
        outcome = settings.SHOP_FAKE_PAYMENT_OUTCOME
        if outcome == "unavailable":
            raise PaymentGatewayUnavailable("fake gateway set to unavailable")
        if outcome == "delay":
            time.sleep(settings.SHOP_FAKE_PAYMENT_DELAY_SECONDS)
        request = Charge(idempotency_key, ChargeResult(approved=False), str(amount), currency, description)
        return self.ledger().charge_once(request, lambda: self._decide(outcome))

    @staticmethod
    def _decide(outcome: str) -> ChargeResult:
        if outcome == "decline":
            return ChargeResult(approved=False, decline_reason="Card declined by the issuer.")
        return ChargeResult(approved=True, reference=f"fake_{uuid.uuid4().hex[:16]}")

    @staticmethod
    def ledger() -> MemoryLedger | SQLiteLedger:
        """Return the ledger this process records charges in."""
        return _ledger(settings.SHOP_FAKE_PAYMENT_LEDGER)

    @classmethod
    def charges(cls) -> dict[str, ChargeResult]:
        """Return every charge made, by idempotency key (for tests and audits)."""
        return {charge.idempotency_key: charge.result for charge in cls.ledger().all()}


def get_gateway() -> PaymentGateway:
    """Return the configured payment gateway."""
    return import_string(settings.SHOP_PAYMENT_GATEWAY)()
