"""Fakes that record what happened, for tests that need no network."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from notifier.errors import NotifierError


@dataclass
class SentMail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class FakeTransport:
    """Stands in for SmtpTransport: keeps what it is given, or raises the queued failures."""

    sent: list[SentMail] = field(default_factory=list)
    failures: list[NotifierError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: int = 0

    def send(self, sender: str, recipients: list[str], message: bytes) -> str:
        with self.lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(SentMail(sender, list(recipients), message))
        return "250 OK (fake)"

    def close(self) -> None:
        self.closed += 1
