"""Mail sent once per purpose: each message carries a key of its own, and the mail service keeps one.

An order's confirmation is sent inside the transaction that marks it confirmed. A worker
killed after the send and before the commit leaves the order paid, and the retry sends the
mail again. That is the same gap as a charge's, and it closes the same way. The charge carries
the order's idempotency key and the card processor answers a repeat as it did the first time.
The mail carries an ``Idempotency-Key`` header (what transactional mail APIs such as Resend
take) and a Message-ID made from the same key, which mail clients such as Gmail fold into one
message.

``IdempotentFileBackend`` is the stand-in for such a service that `make stack` uses (EMAIL_URL
filemail://): Django's file backend, one file per key, a repeat not written again.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

IDEMPOTENCY_HEADER = "Idempotency-Key"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def mail_send_once(*, key: str, subject: str, body: str, to: list[str], domain: str) -> None:
    """Send one message that every retry for the same ``key`` repeats exactly (same Message-ID)."""
    headers = {IDEMPOTENCY_HEADER: key, "Message-ID": f"<{key}@{domain}>"}
    EmailMessage(subject=subject, body=body, to=to, headers=headers).send()


class IdempotentFileBackend(EmailBackend):
    """Django's file backend, one file per idempotency key: a message already kept is not kept again.

    Written here rather than configured: Django's backend appends every message to a file of the
    connection's, with no notion of a key. A message without a key is kept as Django keeps it.
    """

    def send_messages(self, email_messages) -> int:
        plain = [m for m in email_messages if not m.extra_headers.get(IDEMPOTENCY_HEADER)]
        keyed = [m for m in email_messages if m.extra_headers.get(IDEMPOTENCY_HEADER)]
        sent = (super().send_messages(plain) or 0) if plain else 0
        return sent + sum(self._keep_once(message) for message in keyed)

    def _keep_once(self, message: EmailMessage) -> int:
        folder = Path(self.file_path)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{_UNSAFE.sub('_', message.extra_headers[IDEMPOTENCY_HEADER])}.log"
        # Written whole beside it, then linked in: a crash mid-write leaves no half message under
        # the key, and the link fails if the key is already taken (two senders at once).
        descriptor, partial = tempfile.mkstemp(dir=folder, prefix=".sending-")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(message.message().as_bytes() + b"\n" + b"-" * 79 + b"\n")
            os.link(partial, target)
        except FileExistsError:
            return 0
        finally:
            os.unlink(partial)
        return 1
