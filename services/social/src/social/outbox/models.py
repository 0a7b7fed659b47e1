"""The outbox table and the one function that writes to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microblog_contracts.envelope import Envelope
from sqlalchemy import insert, text
from sqlalchemy.orm import Mapped

from social.extensions import db
from social.outbox.retention import subjects_of
from social.outbox.schema import NOTIFY_CHANNEL, outbox_events, outbox_subjects

__all__ = ["OutboxEvent", "record_event"]

subjects_table = outbox_subjects.to_metadata(db.metadata)


class OutboxEvent(db.Model):  # type: ignore[name-defined,misc]
    """One event to publish. Rows are kept once published: replay reads them again."""

    __table__ = outbox_events.to_metadata(db.metadata)

    position: Mapped[int]
    event_id: Mapped[str]
    event_type: Mapped[str]
    body: Mapped[str]
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    publish_attempts: Mapped[int]
    last_error: Mapped[str | None]
    redaction: Mapped[str | None]

    def __repr__(self) -> str:
        return f"<OutboxEvent {self.position} {self.event_type} {self.event_id}>"


def record_event(event: Envelope[Any]) -> OutboxEvent:
    """Add `event` to the current session's transaction; it is published after commit.

    The caller commits: the event and the change it describes land together or not at all.
    """
    row = OutboxEvent(
        event_id=event.id,
        event_type=event.type,
        body=event.to_json_bytes().decode(),
        occurred_at=event.time,
    )
    db.session.add(row)
    subjects = [{"event_id": event.id, "user_id": user_id} for user_id in subjects_of(event)]
    if subjects:
        db.session.execute(insert(subjects_table), subjects)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return row
