"""Turning a rendered mail into the bytes that go to the SMTP server: the From address its policy
asks for, the headers, and a DKIM signature when the deployment signs its mail.

Mailbox providers ask for separate From addresses for transactional, notification and bulk mail
(their reputations are kept apart); each defaults to MAIL_DEFAULT_SENDER.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dkim

from notifier.kinds import Mail, Policy
from notifier.mime import Sender, build_mixed
from notifier.render import RenderedMail

#: The headers a DKIM signature covers (RFC 8058 asks for List-Unsubscribe and its -Post too).
SIGNED_HEADERS = (b"From", b"To", b"Subject", b"Date", b"Message-ID", b"List-Unsubscribe", b"List-Unsubscribe-Post")


@dataclass(frozen=True)
class DkimSigner:
    """Signs each message with the deployment's key (MAIL_DKIM_KEY_FILE, _SELECTOR, _DOMAIN)."""

    selector: str
    domain: str
    key: bytes

    @classmethod
    def from_file(cls, path: Path, selector: str, domain: str) -> DkimSigner:
        return cls(selector, domain, path.read_bytes())

    def sign(self, message: bytes) -> bytes:
        signature: bytes = dkim.sign(message, self.selector.encode(), self.domain.encode(), self.key,
                                     include_headers=list(SIGNED_HEADERS), canonicalize=(b"relaxed", b"relaxed"))
        return signature + message


@dataclass(frozen=True)
class Senders:
    """The From address of each policy of mail."""

    transactional: Sender
    notification: Sender
    bulk: Sender

    def for_policy(self, policy: Policy) -> Sender:
        if policy is Policy.TRANSACTIONAL:
            return self.transactional
        if policy is Policy.BULK:
            return self.bulk
        return self.notification


class Composer:
    """Builds (and signs) the message of a rendered mail."""

    def __init__(self, senders: Senders, signer: DkimSigner | None = None) -> None:
        self.senders = senders
        self.signer = signer

    def compose(self, mail: Mail, rendered: RenderedMail, message_id: str, date: datetime,
                attachments: Sequence[bytes] = ()) -> tuple[Sender, bytes]:
        """The sender (for the envelope) and the whole message; `attachments` are MIME parts made
        once by :func:`notifier.mime.attachment_part`."""
        sender = self.senders.for_policy(mail.policy)
        message = build_mixed(
            sender=sender, recipient=mail.recipient.address, subject=rendered.subject, text=rendered.text,
            html=rendered.html, message_id=message_id, date=date, attachments=attachments,
            headers=mail.list_headers(sender.domain))
        return sender, self.signer.sign(message) if self.signer is not None else message
