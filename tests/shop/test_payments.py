"""The fake gateway: one charge per idempotency key, in this process or across all of a stack's."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal

import pytest

from shop.payments import FakeGateway, PaymentGatewayUnavailable, SQLiteLedger
from tests.concurrency import run_concurrently


def charge(key: str = "SP-AAAA-0001", amount: str = "12.50"):
    return FakeGateway().charge(idempotency_key=key, amount=Decimal(amount), currency="EUR", description=f"Order {key}")


def _charge_in_another_process(key: str, results) -> None:
    results.put(charge(key).reference)


@pytest.fixture
def shared_ledger(settings, tmp_path):
    settings.SHOP_FAKE_PAYMENT_LEDGER = str(tmp_path / "payments.sqlite3")
    return tmp_path / "payments.sqlite3"


def test_a_repeated_key_returns_the_first_charge():
    first, second = charge(), charge()

    assert first.approved and first == second
    assert len(FakeGateway.charges()) == 1


def test_a_declined_charge_stays_declined_for_its_key(settings):
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "decline"
    declined = charge()
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "approve"

    assert not declined.approved
    assert charge() == declined


def test_an_unavailable_gateway_records_nothing(settings):
    settings.SHOP_FAKE_PAYMENT_OUTCOME = "unavailable"

    with pytest.raises(PaymentGatewayUnavailable):
        charge()
    assert FakeGateway.charges() == {}


def test_processes_sharing_a_ledger_file_charge_a_key_once(shared_ledger):
    # A task redelivered to another worker process must not look like a second charge.
    results = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(
        target=_charge_in_another_process, args=("SP-AAAA-0002", results)
    )
    child.start()
    child.join(timeout=30)
    reference_in_child = results.get(timeout=5)

    assert charge("SP-AAAA-0002").reference == reference_in_child
    assert list(FakeGateway.charges()) == ["SP-AAAA-0002"]


def test_many_threads_opening_a_new_ledger_file_at_once_all_open_it(tmp_path):
    # Switching a new file to WAL can be refused at once ("database is locked"); it was, in
    # about one round in fifteen, before opening retried.
    for round_ in range(50):
        path = tmp_path / f"payments-{round_}.sqlite3"
        opened = run_concurrently(16, lambda _, path=path: SQLiteLedger(path))

        assert not [outcome for outcome in opened if isinstance(outcome, Exception)]


def test_concurrent_charges_of_one_key_in_a_ledger_file_make_one_charge(shared_ledger):
    references = {outcome.reference for outcome in run_concurrently(16, lambda _: charge("SP-AAAA-0003"))}

    assert len(references) == 1
    assert len(FakeGateway.charges()) == 1


def test_the_ledger_file_keeps_what_was_charged_for_an_audit(shared_ledger):
    charge("SP-AAAA-0004", amount="99.95")

    [recorded] = FakeGateway.ledger().all()
    assert (recorded.amount, recorded.currency, recorded.description) == ("99.95", "EUR", "Order SP-AAAA-0004")
    assert recorded.result.approved and recorded.result.reference.startswith("fake_")
