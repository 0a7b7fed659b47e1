"""Users, who follows whom, and API tokens. The columns a user's mail depends on are in
:class:`social.mail.state.MailState`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import request
from flask_login import UserMixin
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Boolean, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from social.accounts import ABOUT_ME_MAX, DEFAULT_LOCALE, EMAIL_MAX, NICKNAME_MAX, nickname_key
from social.dbtypes import UTCDateTime, utcnow
from social.extensions import db
from social.mail.state import MailState
from social.nicknames import nickname_skeleton

#: How long a bearer token from `POST /api/tokens` is good for.
TOKEN_LIFETIME = timedelta(hours=24)


class CannotFollowSelf(ValueError):
    """A user asked to follow themselves."""


class Follow(db.Model):  # type: ignore[name-defined,misc]
    """`follower` follows `followed`. The composite key makes a second identical row impossible."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(UserMixin, MailState, db.Model):  # type: ignore[name-defined,misc]
    """A Microblog account."""

    __tablename__ = "users"
    # SQLite would otherwise give a deleted user's id to the next sign-up, and events name users by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nickname: Mapped[str] = mapped_column(String(NICKNAME_MAX))
    #: `nickname` case-folded; unique, so "Susan" and "susan" cannot both register.
    nickname_key: Mapped[str] = mapped_column(String(3 * NICKNAME_MAX), unique=True)
    #: What the nickname looks like (UTS #39 skeleton, see :mod:`social.nicknames`): unique, so
    #: "admin" with a Cyrillic "a" cannot sit beside "admin". NULL only for accounts older than the rule that
    #: look like an older one (the migration reports them).
    nickname_skeleton: Mapped[str | None] = mapped_column(String(6 * NICKNAME_MAX), unique=True, default=None)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    about_me: Mapped[str | None] = mapped_column(String(ABOUT_ME_MAX), default=None)
    locale: Mapped[str] = mapped_column(String(35), default=DEFAULT_LOCALE)
    #: To the minute; shown to others only while `show_last_seen`.
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: to_the_minute(utcnow()))
    show_last_seen: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by a password reset: sessions, API tokens and reset links from before it stop working.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __init__(self, *, nickname: str, email: str, **fields: object) -> None:
        key = nickname_key(nickname)
        super().__init__(
            nickname=nickname, nickname_key=key, nickname_skeleton=nickname_skeleton(nickname), email=email, **fields
        )

    def __repr__(self) -> str:
        return f"<User {self.nickname}>"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def session_token(self) -> str | None:
        """The token of the login session this object was loaded for (see :mod:`social.sessions`)."""
        token: str | None = self.__dict__.get("_session_token")
        return token

    @session_token.setter
    def session_token(self, token: str | None) -> None:
        self.__dict__["_session_token"] = token

    def get_id(self) -> str:
        """What the session and remember cookies keep: the token of one login session, never the
        user id, so ending that session on the server ends both cookies for good."""
        if self.session_token is None:
            raise RuntimeError("open a login session first (social.sessions.log_in)")
        return self.session_token

    def avatar(self, size: int) -> str:
        """The path of this user's identicon, `size` pixels square: made from the id, never the address."""
        return avatar_path(self.id, size)

    def is_following(self, user: User) -> bool:
        return db.session.get(Follow, (self.id, user.id)) is not None

    def follow(self, user: User) -> bool:
        """Add the follow row to the session; False if it exists. The caller commits."""
        if user.id == self.id:
            raise CannotFollowSelf(self.nickname)
        if self.is_following(user):
            return False
        db.session.add(Follow(follower_id=self.id, followed_id=user.id))
        return True

    def unfollow(self, user: User) -> bool:
        """Delete the follow row in the session's transaction; False if there was none. The
        caller commits. One DELETE, so of two racing unfollows only one finds the row."""
        result = db.session.execute(
            delete(Follow).where(Follow.follower_id == self.id, Follow.followed_id == user.id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def follower_count(self) -> int:
        query = select(func.count()).select_from(Follow).where(Follow.followed_id == self.id)
        return int(db.session.scalar(query) or 0)

    def following_count(self) -> int:
        query = select(func.count()).select_from(Follow).where(Follow.follower_id == self.id)
        return int(db.session.scalar(query) or 0)

    def followers_page(self, page: int, per_page: int) -> Pagination:
        """This user's followers, newest follow first, one page of them."""
        query = (
            select(User)
            .join(Follow, Follow.follower_id == User.id)
            .where(Follow.followed_id == self.id)
            .order_by(Follow.created_at.desc(), User.id.desc())
        )
        return db.paginate(query, page=page, per_page=per_page, error_out=False)

    def following_page(self, page: int, per_page: int) -> Pagination:
        """Whom this user follows, newest follow first, one page of them."""
        query = (
            select(User)
            .join(Follow, Follow.followed_id == User.id)
            .where(Follow.follower_id == self.id)
            .order_by(Follow.created_at.desc(), User.id.desc())
        )
        return db.paginate(query, page=page, per_page=per_page, error_out=False)


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """A bearer token for the JSON API. Only its SHA-256 is stored, never the token itself."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, *, now: datetime | None = None) -> tuple[ApiToken, str]:
        """A new token row for `user` (added to the session) and the token to hand out once."""
        token = secrets.token_urlsafe(32)
        issued = now or utcnow()
        row = cls(
            token_hash=cls.hash(token),
            user_id=user.id,
            created_at=issued,
            expires_at=issued + TOKEN_LIFETIME,
        )
        db.session.add(row)
        return row, token

    @classmethod
    def find_valid(cls, token: str, *, now: datetime | None = None) -> ApiToken | None:
        """The unexpired row for `token`, or None. Looked up by hash, so timing leaks nothing."""
        row: ApiToken | None = db.session.scalar(
            select(cls).where(cls.token_hash == cls.hash(token))
        )
        if row is None or row.expires_at <= (now or utcnow()):
            return None
        return row

    @classmethod
    def for_request(cls, token: str) -> ApiToken | None:
        """:meth:`find_valid`, looked up once per request: the rate limit and the view both ask."""
        # Kept in the request's own environ (an app context, and so `g`, can outlive one request).
        found: dict[str, ApiToken | None] = request.environ.setdefault("social.valid_api_tokens", {})
        if token not in found:
            found[token] = cls.find_valid(token)
        return found[token]

    @property
    def user(self) -> User:
        user = db.session.get(User, self.user_id)
        assert user is not None  # the foreign key cascades deletes
        return user


def avatar_path(user_id: int, size: int) -> str:
    return f"/avatar/{user_id}.png?s={size}"


def to_the_minute(moment: datetime) -> datetime:
    """`moment` without its seconds: how precisely anyone is told when a user was last seen."""
    return moment.replace(second=0, microsecond=0)
