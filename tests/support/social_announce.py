"""Steps of the tests of `social announce`: many users at once, the operator's files, and what the
notifier reports of each mail (recorded through the relay inbox's own store)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from microblog_contracts import MailActivityEntry, MailOutcome
from social.dbtypes import utcnow
from social.extensions import db
from social.inbox.store import InboxStore
from social.models import User
from sqlalchemy import insert, select

#: Not a hash of any password: nobody logs in as these users.
_NO_PASSWORD = "!"


def add_users(count: int, *, start: int = 0, confirmed: bool = True, announcements: bool = True,
              locale: str = "en", prefix: str = "user") -> list[int]:
    """`count` users in bulk INSERTs (no password hashing), committed; returns their ids in order."""
    now = utcnow()
    rows = [
        {"nickname": f"{prefix}{n}", "nickname_key": f"{prefix}{n}", "email": f"{prefix}{n}@example.com",
         "password_hash": _NO_PASSWORD, "locale": locale, "last_seen": now, "created_at": now,
         "email_confirmed_at": now - timedelta(days=1) if confirmed else None, "announcements": announcements}
        for n in range(start, start + count)
    ]
    for first in range(0, len(rows), 5000):
        db.session.execute(insert(User), rows[first:first + 5000])
    db.session.commit()
    keys = {row["nickname_key"] for row in rows}
    found = db.session.execute(select(User.id, User.nickname_key).where(User.nickname_key.startswith(prefix))
                               .order_by(User.id))
    return [user_id for user_id, key in found if key in keys]


def write(path: Path, content: str | bytes) -> str:
    """Write `content` (UTF-8 if text) to `path`; returns the path as the operator would type it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def report_mail(announcement_id: str, user_ids: Iterable[int], outcome: str = "sent", reason: str | None = None,
                *, at: datetime | None = None) -> int:
    """Record what the notifier says of each user's mail, as the relay's inbox would; returns how many."""
    at = at or utcnow()
    entries = [
        MailActivityEntry(id=f"announcement:{announcement_id}:{user_id}", user_id=user_id, kind="announcement",
                          event_id=announcement_id, outcome=MailOutcome(outcome), reason=reason, at=at)
        for user_id in user_ids
    ]
    store = InboxStore(db.engine)
    return sum(store.record_activity(entries[n:n + 500], now=at) for n in range(0, len(entries), 500))
