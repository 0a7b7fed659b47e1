"""Login sessions kept on the server, so that ending one ends it for good.

Logging in opens a session: a random token whose SHA-256 is a row here. The session cookie and the
remember cookie both carry the token (Flask-Login's alternative id: :meth:`User.get_id`), never the
user id, so logging out, which deletes the row, ends both cookies, also copies of them. Changing or
resetting the password, "log out everywhere" and deleting the account end every session and
revoke every API token of the user (:func:`end_every_session`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from social.dbtypes import UTCDateTime, utcnow
from social.extensions import db, login
from social.models import ApiToken, User

#: How long a session lasts, remembered or not (the remember cookie lasts as long).
SESSION_LIFETIME = timedelta(days=30)


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """One login of one browser."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, *, now: datetime | None = None) -> None:
    """Add a new session of `user` to the db session and give `user` its token (the caller
    commits, then calls Flask-Login's `login_user`)."""
    token = secrets.token_urlsafe(32)
    issued = now or utcnow()
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=issued,
                               expires_at=issued + SESSION_LIFETIME))
    user.session_token = token


def end_session(token: str | None) -> None:
    """Delete the session of `token` (the caller commits)."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(token)))


def end_every_session(user_id: int) -> None:
    """End every login session and revoke every API token of the user (the caller commits)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


def prune_sessions(now: datetime) -> int:
    """Delete sessions past their end; returns how many (the caller commits)."""
    result = db.session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


@login.user_loader  # type: ignore[untyped-decorator]
def load_user(token: str) -> User | None:
    """Flask-Login's way back from a cookie to the user: None (logged out) unless the cookie's
    session is still open. Cookies from before sessions were kept (a user id) find none."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        select(User, UserSession.expires_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _hash(token))
    ).first()
    if row is None or row.expires_at <= utcnow():
        return None
    user: User = row.User
    user.session_token = token
    return user
