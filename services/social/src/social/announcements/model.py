"""The `announcements` table: what social sent, to how many, and whether it was called off.

The texts and attachments themselves live only in the announcement's outbox events; this row keeps
what `social announce status` and a user's mail history show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from social.dbtypes import UTCDateTime
from social.extensions import db


class Announcement(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "announcements"

    #: The contract's `announcement_id`; the notifier reports each mail with it as `event_id`.
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    #: Each language variant's subject, by locale (`{"zh-CN": "..."}`).
    variant_subjects: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: `[{"filename", "content_type", "size", "sha256"}]`, in the order the mails carry them.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recipients: Mapped[int] = mapped_column(Integer)
    recipient_batches: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The operator's login name on the machine that ran `social announce`, if known.
    created_by: Mapped[str | None] = mapped_column(String(64), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def subject_for(self, locale: str) -> str:
        """The subject a reader of `locale` got: their variant's, else the default."""
        return self.variant_subjects.get(locale) or self.subject

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.subject!r}>"
