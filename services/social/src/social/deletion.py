"""Deleting an account: everything social holds of the user goes, and the notifier is told.

One transaction removes the user's posts, follows (both ways), sessions, API tokens, mail links and mail
history, and the account itself, and records `user.deleted` so the notifier forgets the address.
The user's published events are erased right after; those still pending are erased by the next
:func:`social.outbox.retention.prune_outbox` after they are published. The database does the
removing itself on PostgreSQL (foreign keys cascade); SQLite here enforces no foreign keys, so
each table is cleared by name.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from microblog_contracts import UserDeleted, UserDeletedData
from sqlalchemy import delete, or_

from social.extensions import db
from social.mail.history import MailHistory
from social.mail.tokens import MailToken
from social.models import Follow, User
from social.outbox.models import record_event
from social.outbox.retention import erase_events_of
from social.posts import Post
from social.sessions import UserSession, end_every_session

log = structlog.get_logger("social.accounts")


def delete_account(user: User, *, now: datetime) -> None:
    """Delete `user` and all that is theirs, record `user.deleted`, and commit."""
    user_id = user.id
    record_event(UserDeleted(time=now, data=UserDeletedData(user_id=user_id, deleted_at=now)))
    end_every_session(user_id)
    db.session.execute(delete(Follow).where(or_(Follow.follower_id == user_id, Follow.followed_id == user_id)))
    db.session.execute(delete(Post).where(Post.author_id == user_id))
    for model in (UserSession, MailToken, MailHistory):
        db.session.execute(delete(model).where(model.user_id == user_id))
    db.session.delete(user)
    db.session.commit()
    erased = erase_events_of(db.engine, user_id)
    log.info("account_deleted", user=user_id, events_erased=erased)
