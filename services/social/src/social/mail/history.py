"""A user's recent mail, as the notifier reported it (see :mod:`social.inbox`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Mapped

from social.announcements.model import Announcement
from social.extensions import db
from social.mail.schema import HISTORY_KEPT, mail_history
from social.mail.words import kind_words, local_time, outcome_words, reason_words, user_zone
from social.models import User

#: The most lines the settings page shows.
RECENT_LIMIT = 50
#: The kind the notifier reports an announcement's mail as; its `event_id` is the announcement's id.
ANNOUNCEMENT = "announcement"


class MailHistory(db.Model):  # type: ignore[name-defined,misc]
    __table__ = mail_history.to_metadata(db.metadata)

    id: Mapped[str]
    user_id: Mapped[int]
    kind: Mapped[str]
    event_id: Mapped[str]
    outcome: Mapped[str]
    reason: Mapped[str | None]
    at: Mapped[datetime]
    merged_into_at: Mapped[datetime | None]


@dataclass(frozen=True)
class MailLine:
    """One mail as the settings page lists it, its times in the user's time zone."""

    at: datetime
    when: str
    what: str
    outcome: str
    outcome_words: str
    why: str | None


def recent_mail(user: User, *, now: datetime) -> list[MailLine]:
    """The user's mail of the last 30 days, newest first."""
    zone = user_zone(user.time_zone)
    rows = db.session.scalars(
        select(MailHistory)
        .where(MailHistory.user_id == user.id, MailHistory.at >= now - HISTORY_KEPT)
        .order_by(MailHistory.at.desc(), MailHistory.id)
        .limit(RECENT_LIMIT)
    ).all()
    subjects = _announcement_subjects({row.event_id for row in rows if row.kind == ANNOUNCEMENT}, user.locale)
    return [
        MailLine(at=row.at, when=local_time(row.at, zone), what=kind_words(row.kind, subjects.get(row.event_id)),
                 outcome=row.outcome,
                 outcome_words=outcome_words(row.outcome, row.reason, row.merged_into_at),
                 why=reason_words(row.reason, row.merged_into_at, zone) if row.outcome != "sent" else None)
        for row in rows
    ]


def _announcement_subjects(announcement_ids: set[str], locale: str) -> dict[str, str]:
    """The subject each announcement had in the reader's language, by id."""
    if not announcement_ids:
        return {}
    found = db.session.scalars(select(Announcement).where(Announcement.id.in_(announcement_ids)))
    return {a.id: a.subject_for(locale) for a in found}
