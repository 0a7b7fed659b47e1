"""Writing an announcement, and calling one off.

:func:`announce` first reads every recipient and packs their mail profiles into batches, spooled
to a temporary file (about 850 bytes a recipient) so that memory stays bounded. Then ONE
transaction writes the `announcements` row and every event of the announcement to the outbox, in
the order the notifier is best served by: `announcement.created` (which says exactly how many
recipients and batches follow), each attachment's chunks, the recipient batches. A stopped `social
announce` therefore leaves nothing behind, the relay publishes all of it or none, and the write
transaction is short: on SQLite it holds the database's write lock for a second or two for
100,000 recipients, not for the whole reading.
"""

from __future__ import annotations

import pickle
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from microblog_contracts import ANNOUNCEMENT_RECIPIENTS
from microblog_contracts.envelope import Envelope
from sqlalchemy import insert, text, update

from social.announcements.drafts import Draft
from social.announcements.errors import AlreadyCancelled, NoRecipients, UnknownAnnouncement
from social.announcements.events import attachment_events, cancelled_event, check_created_fits, created_event
from social.announcements.model import Announcement
from social.announcements.recipients import Batch, LeftOut, pack_batches, recipient_profiles
from social.extensions import db
from social.mail.links import Links
from social.outbox.models import OutboxEvent, record_event
from social.outbox.schema import NOTIFY_CHANNEL

#: Outbox rows per INSERT: a batch's body is up to 48 KiB, so about 1.5 MiB a statement.
ROWS_PER_INSERT = 32


@dataclass(frozen=True)
class Announced:
    announcement: Announcement
    batches: int
    #: Users who would have got it but whose profile no mail can carry (each one is logged).
    left_out: int


def announce(draft: Draft, *, links: Links, now: datetime, created_by: str | None = None) -> Announced:
    """Write the announcement of `draft` to every user with a confirmed address and announcements
    on, and commit; raises :class:`NoRecipients` (and writes nothing) when there is nobody.

    It ends the session's transaction before it writes: call it with nothing else pending.
    """
    check_created_fits(draft)
    announcement_id = str(uuid.uuid4())
    left_out = LeftOut()
    with tempfile.TemporaryFile(prefix="social-announcement-") as spool:
        batches = pack_batches(recipient_profiles(links, left_out), announcement_id=announcement_id, at=now)
        recipients, batch_count = _spool(batches, spool)
        db.session.rollback()  # end the reading: on SQLite a read transaction cannot become a write
        if recipients == 0:
            raise NoRecipients(left_out.users)
        outbox = _OutboxWriter()
        try:
            outbox.add(created_event(draft, announcement_id=announcement_id, at=now, recipients=recipients,
                                     batches=batch_count))
            for chunk in attachment_events(draft.attachments, announcement_id=announcement_id, at=now):
                outbox.add(chunk)
            for event_id, body in _unspool(spool):
                outbox.add_body(event_id, ANNOUNCEMENT_RECIPIENTS, body, at=now)
            outbox.flush()
            announcement = Announcement(
                id=announcement_id, subject=draft.default.subject,
                variant_subjects={locale: t.subject for locale, t in draft.variants.items()},
                attachments=[{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                              "sha256": a.sha256} for a in draft.attachments],
                recipients=recipients, recipient_batches=batch_count, created_at=now, created_by=created_by,
            )
            db.session.add(announcement)
            outbox.notify()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return Announced(announcement=announcement, batches=batch_count, left_out=left_out.users)


def _spool(batches: Iterable[Batch], spool: IO[bytes]) -> tuple[int, int]:
    """Keep each batch's event id and body in `spool`; returns how many recipients and batches."""
    recipients = count = 0
    for batch in batches:
        pickle.dump((batch.event.id, batch.body), spool)
        recipients, count = recipients + batch.recipients, count + 1
    spool.seek(0)
    return recipients, count


def _unspool(spool: IO[bytes]) -> Iterator[tuple[str, bytes]]:
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301  (our own file, written a moment ago)
        except EOFError:
            return


def cancel(announcement_id: str, *, now: datetime) -> Announcement:
    """Call an announcement off (`announcement.cancelled`) and commit; the notifier stops what
    has not gone. Raises :class:`UnknownAnnouncement` or :class:`AlreadyCancelled`; of two
    cancels at once, one wins, since only one finds the row not cancelled yet."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:
        raise UnknownAnnouncement(announcement_id)
    marked = db.session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.cancelled_at.is_(None))
        .values(cancelled_at=now),
        execution_options={"synchronize_session": False},
    )
    if not marked.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        again = db.session.get(Announcement, announcement_id, populate_existing=True)
        raise AlreadyCancelled(announcement_id, again.cancelled_at if again else None)
    record_event(cancelled_event(announcement_id, at=now))
    db.session.commit()
    db.session.refresh(announcement)
    return announcement


class _OutboxWriter:
    """Outbox rows in bulk, a few dozen per INSERT, in the order they are added (their positions
    grow with it: the relay publishes in that order). The caller's transaction holds them."""

    def __init__(self) -> None:
        self._table = OutboxEvent.__table__
        self._rows: list[dict[str, Any]] = []

    def add(self, event: Envelope[Any]) -> None:
        self.add_body(event.id, event.type, event.to_json_bytes(), at=event.time)

    def add_body(self, event_id: str, event_type: str, body: bytes, *, at: datetime) -> None:
        """An event already serialized (as `body`)."""
        self._rows.append({"event_id": event_id, "event_type": event_type, "body": body.decode(),
                           "occurred_at": at})
        if len(self._rows) >= ROWS_PER_INSERT:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            db.session.execute(insert(self._table), self._rows)
            self._rows = []

    def notify(self) -> None:
        """Wake the relay up at commit (PostgreSQL); on SQLite it polls."""
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
