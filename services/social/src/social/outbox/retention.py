"""What the outbox keeps of people: addresses for `OUTBOX_RETENTION`, nothing of a deleted user.

Published events stay in the outbox for replays. Once older than the retention their addresses
(the profile's `email`, the `address` a link went to, old and new addresses) become null and their
unsubscribe links go, the rest of the event stays (`redaction = 'address'`): a replay still
carries who followed whom. Once a user's account is deleted, every published event about them loses
its data entirely (`redaction = 'erased'`) and replays skip it; one still pending is erased as soon
as it is published. Plain SQLAlchemy, so the relay or `social outbox prune` can run it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from microblog_contracts import USER_DELETED
from microblog_contracts.envelope import Envelope
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from social.outbox.schema import outbox_events as outbox
from social.outbox.schema import outbox_subjects

ADDRESS = "address"
ERASED = "erased"
#: Fields that hold an address, wherever they sit in an event's data.
_ADDRESS_FIELDS = frozenset({"email", "address", "old_address", "new_address"})
#: Rows rewritten per transaction.
_BATCH = 500


@dataclass(frozen=True)
class Pruned:
    """What one pass changed."""

    addresses_dropped: int
    erased: int


def subjects_of(event: Envelope[Any]) -> set[int]:
    """The ids of the users an event is about (a follow: both; a mail: its recipient)."""
    data = event.data
    found: set[int] = set()
    for name in ("user_id", "follower_id", "followed_id"):
        if isinstance(getattr(data, name, None), int):
            found.add(getattr(data, name))
    for name in ("profile", "followed"):
        profile = getattr(data, name, None)
        if isinstance(profile, BaseModel) and isinstance(getattr(profile, "user_id", None), int):
            found.add(profile.user_id)  # type: ignore[attr-defined]
    follower = getattr(data, "follower", None)
    if isinstance(follower, BaseModel) and isinstance(getattr(follower, "id", None), int):
        found.add(follower.id)  # type: ignore[attr-defined]
    return found


def prune_outbox(engine: Engine, *, retention: timedelta, now: datetime) -> Pruned:
    """Erase the published events of deleted users, and drop the addresses of published events
    older than `retention`. Safe to run from several processes at once, and often."""
    erased = _rewrite(engine, _of_deleted_users(), ERASED, _erase)
    dropped = _rewrite(engine, outbox.c.occurred_at < now - retention, ADDRESS, _without_addresses)
    return Pruned(addresses_dropped=dropped, erased=erased)


def erase_events_of(engine: Engine, user_id: int) -> int:
    """Erase the published events about `user_id` now (its account is gone); returns how many."""
    about = sa.select(outbox_subjects.c.event_id).where(outbox_subjects.c.user_id == user_id)
    return _rewrite(engine, sa.and_(outbox.c.event_id.in_(about), outbox.c.event_type != USER_DELETED), ERASED,
                    _erase)


def _of_deleted_users() -> sa.ColumnElement[bool]:
    users = sa.table("users", sa.column("id"))
    about_the_deleted = (
        sa.select(outbox_subjects.c.event_id)
        .where(~sa.exists().where(users.c.id == outbox_subjects.c.user_id))
    )
    # The deletion itself says nothing but an id, and replays must keep telling it.
    return sa.and_(outbox.c.event_id.in_(about_the_deleted), outbox.c.event_type != USER_DELETED)


def _rewrite(engine: Engine, which: sa.ColumnElement[bool], redaction: str, change: Any) -> int:
    """Rewrite the bodies of the published rows `which` selects that are less redacted than
    `redaction`, in batches; returns how many."""
    done = 0
    less_redacted: sa.ColumnElement[bool] = outbox.c.redaction.is_(None)
    if redaction == ERASED:
        less_redacted = sa.or_(less_redacted, outbox.c.redaction == ADDRESS)
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(outbox.c.position, outbox.c.body)
                .where(which, outbox.c.published_at.is_not(None), less_redacted)
                .order_by(outbox.c.position).limit(_BATCH)
            ).all()
            for row in rows:
                conn.execute(sa.update(outbox).where(outbox.c.position == row.position)
                             .values(body=json.dumps(change(json.loads(row.body))), redaction=redaction))
        done += len(rows)
        if len(rows) < _BATCH:
            return done


def _erase(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "data": None}


def _without_addresses(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "data": _scrub(document.get("data"))}


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: None if key in _ADDRESS_FIELDS else {} if key == "unsubscribe_urls" else _scrub(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def not_erased() -> sa.ColumnElement[bool]:
    """The rows a replay may publish again."""
    return sa.or_(outbox.c.redaction.is_(None), outbox.c.redaction != ERASED)
