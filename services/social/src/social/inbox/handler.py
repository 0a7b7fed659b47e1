"""What a message from the notifier means to social: the decision, without the broker.

`handle` returns an :class:`Outcome` (done, or dead with a reason) for the consumer to settle;
it raises :class:`~social.inbox.store.StoreUnavailable` when the database is away, and the
message is then tried again later.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from microblog_contracts import EventDecodeError, MailActivity, MailBounced, decode_event

from social.dbtypes import utcnow
from social.inbox.store import InboxStore, StoreRefused, StoreUnavailable

log = structlog.get_logger("social.inbox")

#: How often the inbox deletes history older than users are shown.
PURGE_INTERVAL = timedelta(hours=1)


class Verdict(enum.StrEnum):
    DONE = "done"  # applied (or nothing to apply): ack
    DEAD = "dead"  # cannot be read or applied, ever: to the dead-letter queue


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    event_type: str = "unknown"
    event_id: str | None = None
    reason: str | None = None  # for DEAD: a stable code such as `unreadable.not_json`
    detail: str | None = None


class InboxHandler:
    def __init__(self, store: InboxStore, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._next_purge = 0.0

    def handle(self, body: bytes) -> Outcome:
        """Apply one message body; raises StoreUnavailable while the database is away."""
        try:
            event = decode_event(body)
        except EventDecodeError as exc:
            return Outcome(Verdict.DEAD, reason=f"unreadable.{exc.failure.value}", detail=exc.detail)
        try:
            if isinstance(event, MailActivity):
                recorded = self.store.record_activity(event.data.entries, now=self.clock())
                log.info("mail_activity_recorded", event_id=event.id, entries=len(event.data.entries),
                         recorded=recorded)
            elif isinstance(event, MailBounced):
                marked = self.store.record_bounce(event.data)
                log.info("mail_bounce_recorded", event_id=event.id, user=event.data.user_id, marked=marked,
                         bounced_event_id=event.data.event_id)
            else:
                return Outcome(Verdict.DEAD, event.type, event.id, "unhandled_type", f"social reads no {event.type}")
        except StoreRefused as exc:
            return Outcome(Verdict.DEAD, event.type, event.id, "store_refused", str(exc))
        return Outcome(Verdict.DONE, event.type, event.id)

    def housekeeping(self) -> None:
        """Purge old history, at most once per :data:`PURGE_INTERVAL`; never raises."""
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_INTERVAL.total_seconds()
        try:
            purged = self.store.purge_history(now=self.clock())
        except (StoreUnavailable, StoreRefused) as exc:
            log.warning("mail_history_purge_failed", error=str(exc))
            self._next_purge = time.monotonic() + 60  # soon again, not in a loop
            return
        if purged:
            log.info("mail_history_purged", rows=purged)
