"""What the ledger keeps, as values: the key of a delivery, the last notice about a subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """One mail: an event, to a recipient, of a kind."""

    event_id: str
    recipient: str
    kind: str


@dataclass(frozen=True, slots=True)
class NoticeKey:
    """What a run of mails of one kind is about (a follower and the user they follow)."""

    kind: str
    subject: str


@dataclass(frozen=True, slots=True)
class Notice:
    """The last mail of a kind about a subject: which event, and when it happened."""

    key: NoticeKey
    event_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A mail the SMTP server accepted."""

    key: DeliveryKey
    message_id: str
    delivered_at: datetime
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the ledger knows before a mail goes out: whether it went already, and the last notice
    about its subject."""

    delivered: bool
    notice: Notice | None = None
