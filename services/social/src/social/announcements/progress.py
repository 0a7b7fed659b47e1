"""How far an announcement has gone, counted from the mail history.

The notifier reports each recipient's mail as a `mail.activity` entry (kind `announcement`,
`event_id` the announcement's id, outcome sent, skipped or failed with a reason), and the relay's
inbox keeps one row per mail in `mail_history`; counting those rows is the progress. The history
keeps 30 days (:data:`social.mail.schema.HISTORY_KEPT`), so an older announcement's counts shrink.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from social.announcements.errors import UnknownAnnouncement
from social.announcements.model import Announcement
from social.extensions import db
from social.mail.history import ANNOUNCEMENT, MailHistory

#: How a skip or failure without a reason is counted.
NO_REASON = "unknown"


@dataclass(frozen=True)
class Progress:
    announcement: Announcement
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def recipients(self) -> int:
        return self.announcement.recipients

    @property
    def reported(self) -> int:
        """Recipients the notifier has said something final about."""
        return min(self.recipients, self.sent + sum(self.skipped.values()) + sum(self.failed.values()))

    @property
    def remaining(self) -> int:
        return self.recipients - self.reported

    @property
    def cancelled_at(self) -> datetime | None:
        return self.announcement.cancelled_at

    @property
    def over(self) -> bool:
        """Nothing more to watch: every recipient reported, or the announcement called off."""
        return self.remaining == 0 or self.cancelled_at is not None

    def summary(self) -> str:
        """One line: `sent 120, skipped 3, failed 0, remaining 877 of 1,000`."""
        return (f"sent {self.sent:,}, skipped {sum(self.skipped.values()):,}, failed {sum(self.failed.values()):,}, "
                f"remaining {self.remaining:,} of {self.recipients:,}")

    def as_json(self) -> dict[str, Any]:
        a = self.announcement
        return {
            "id": a.id, "subject": a.subject, "variant_subjects": a.variant_subjects,
            "created_at": a.created_at.isoformat(), "created_by": a.created_by,
            "attachments": a.attachments, "recipients": a.recipients, "sent": self.sent,
            "skipped": self.skipped, "failed": self.failed, "remaining": self.remaining,
            "cancelled_at": a.cancelled_at.isoformat() if a.cancelled_at else None, "done": self.remaining == 0,
        }


def progress_of(announcement_id: str) -> Progress:
    """The announcement and what the notifier has reported of it; raises :class:`UnknownAnnouncement`."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:
        raise UnknownAnnouncement(announcement_id)
    counts = db.session.execute(
        select(MailHistory.outcome, MailHistory.reason, func.count())
        .where(MailHistory.event_id == announcement_id, MailHistory.kind == ANNOUNCEMENT)
        .group_by(MailHistory.outcome, MailHistory.reason)
    ).all()
    sent, skipped, failed = 0, dict[str, int](), dict[str, int]()
    for outcome, reason, count in counts:
        if outcome == "sent":
            sent += count
        else:
            into = skipped if outcome == "skipped" else failed
            into[reason or NO_REASON] = into.get(reason or NO_REASON, 0) + count
    return Progress(announcement, sent=sent, skipped=_by_count(skipped), failed=_by_count(failed))


def _by_count(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
