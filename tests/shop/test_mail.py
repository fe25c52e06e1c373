"""Mail sent once per purpose: a message key the mail service honours (shop/mail.py)."""

from __future__ import annotations

from django.core import mail
from django.core.mail import EmailMessage

from shop.mail import IdempotentFileBackend, mail_send_once
from tests.concurrency import run_concurrently


def keyed(key: str, subject: str = "Your order SP-AAAA-BBBB is confirmed") -> EmailMessage:
    return EmailMessage(subject=subject, body="Thank you.", to=["ann@example.com"], headers={"Idempotency-Key": key})


def kept(folder) -> list[str]:
    return sorted(path.read_text() for path in folder.glob("*.log"))


def test_a_message_sent_again_with_its_key_is_kept_once(tmp_path):
    first = IdempotentFileBackend(file_path=str(tmp_path)).send_messages([keyed("order-confirmed-SP-AAAA-BBBB")])
    again = IdempotentFileBackend(file_path=str(tmp_path)).send_messages([keyed("order-confirmed-SP-AAAA-BBBB")])

    assert (first, again) == (1, 0)
    assert len(kept(tmp_path)) == 1
    assert "Your order SP-AAAA-BBBB is confirmed" in kept(tmp_path)[0]
    assert not list(tmp_path.glob(".sending-*"))  # nothing half-written left beside it


def test_two_senders_of_one_key_at_once_keep_one_message(tmp_path):
    sent = run_concurrently(
        8, lambda _: IdempotentFileBackend(file_path=str(tmp_path)).send_messages([keyed("order-confirmed-SP-X")])
    )

    assert sorted(sent) == [0] * 7 + [1]
    assert len(kept(tmp_path)) == 1


def test_messages_with_other_keys_or_none_are_each_kept(tmp_path):
    backend = IdempotentFileBackend(file_path=str(tmp_path))
    plain = EmailMessage(subject="A note", body="Hello.", to=["ann@example.com"])

    assert backend.send_messages([keyed("a"), keyed("b", subject="Another order"), plain]) == 3
    assert len(kept(tmp_path)) == 3


def test_a_key_with_path_characters_stays_in_the_mail_folder(tmp_path):
    IdempotentFileBackend(file_path=str(tmp_path / "mail")).send_messages([keyed("../../escape")])

    assert [path.name for path in (tmp_path / "mail").glob("*.log")] == [".._.._escape.log"]
    assert not list(tmp_path.glob("*.log"))


def test_the_message_carries_its_key_and_a_message_id_made_from_it():
    mail_send_once(
        key="order-confirmed-SP-1", subject="Confirmed", body="Thanks.", to=["ann@example.com"], domain="shop.example"
    )

    (message,) = mail.outbox
    assert message.extra_headers["Idempotency-Key"] == "order-confirmed-SP-1"
    assert message.message()["Message-ID"] == "<order-confirmed-SP-1@shop.example>"
