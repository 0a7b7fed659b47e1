"""Taking in social's announcement events: each one a row (or a few), written at once.

The events arrive on the notifier's bulk queue, apart from the mail that must not wait behind them
(a password reset, a follow notice). Every write is idempotent, so a redelivered event, or a whole
announcement published again by social's replay, changes nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime

from microblog_contracts import (
    ANNOUNCEMENT_ATTACHMENT,
    ANNOUNCEMENT_CANCELLED,
    ANNOUNCEMENT_CREATED,
    ANNOUNCEMENT_RECIPIENTS,
    AnnouncementAttachment,
    AnnouncementCancelled,
    AnnouncementCreated,
    AnnouncementRecipients,
)

from notifier.errors import BadAttachment
from notifier.ledger.announcements import SqlAnnouncements

#: The event types the bulk queue takes.
BULK_EVENT_TYPES = (ANNOUNCEMENT_CREATED, ANNOUNCEMENT_ATTACHMENT, ANNOUNCEMENT_RECIPIENTS, ANNOUNCEMENT_CANCELLED)

AnnouncementEvent = AnnouncementCreated | AnnouncementAttachment | AnnouncementRecipients | AnnouncementCancelled


class Intake:
    """Writes announcement events into the notifier's database; `on_change` hears of each (a bulk
    sender may have work now)."""

    def __init__(self, store: SqlAnnouncements, *, on_change: Callable[[], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.on_change = on_change
        self.clock = clock

    def take(self, event: AnnouncementEvent) -> None:
        """Keep `event`; raises LedgerUnavailable (try again) or BadAttachment (dead-letter it)."""
        if isinstance(event, AnnouncementCreated):
            self.store.created(event.data, self.clock())
        elif isinstance(event, AnnouncementAttachment):
            try:
                raw = base64.b64decode(event.data.data, validate=True)
            except binascii.Error as exc:
                where = f"attachment {event.data.index} chunk {event.data.chunk}"
                raise BadAttachment(f"{where}: not base64: {exc}") from None
            self.store.chunk(event.data.announcement_id, event.data.index, event.data.chunk, raw)
        elif isinstance(event, AnnouncementRecipients):
            self.store.add_recipients(event.data.announcement_id, event.data.recipients, self.clock())
        else:
            self.store.cancel(event.data.announcement_id, event.data.cancelled_at)
        if self.on_change is not None:
            self.on_change()
