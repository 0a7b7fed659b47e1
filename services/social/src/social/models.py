"""Users, who follows whom, and API tokens. The columns a user's mail depends on are in
:class:`social.mail.state.MailState`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from social.accounts import ABOUT_ME_MAX, DEFAULT_LOCALE, EMAIL_MAX, NICKNAME_MAX, nickname_key
from social.dbtypes import UTCDateTime, utcnow
from social.extensions import db, login
from social.mail.state import MailState

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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nickname: Mapped[str] = mapped_column(String(NICKNAME_MAX))
    #: `nickname` case-folded; unique, so "Susan" and "susan" cannot both register.
    nickname_key: Mapped[str] = mapped_column(String(3 * NICKNAME_MAX), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    about_me: Mapped[str | None] = mapped_column(String(ABOUT_ME_MAX), default=None)
    locale: Mapped[str] = mapped_column(String(35), default=DEFAULT_LOCALE)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by a password reset: sessions, API tokens and reset links from before it stop working.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __init__(self, *, nickname: str, email: str, **fields: object) -> None:
        super().__init__(
            nickname=nickname, nickname_key=nickname_key(nickname), email=email, **fields
        )

    def __repr__(self) -> str:
        return f"<User {self.nickname}>"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """What the session cookie keeps: the id, and when the password last changed, so a
        password reset ends every session made before it (see :func:`load_user`)."""
        if self.password_changed_at is None:
            return str(self.id)
        return f"{self.id}.{_session_epoch(self.password_changed_at)}"

    def avatar(self, size: int) -> str:
        """The Gravatar identicon URL for this user's e-mail, `size` pixels square."""
        digest = hashlib.md5(self.email.lower().encode(), usedforsecurity=False).hexdigest()
        return f"https://www.gravatar.com/avatar/{digest}?d=identicon&s={size}"

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

    @property
    def user(self) -> User:
        user = db.session.get(User, self.user_id)
        assert user is not None  # the foreign key cascades deletes
        return user


@login.user_loader  # type: ignore[untyped-decorator]
def load_user(user_id: str) -> User | None:
    """Flask-Login's way back from the session cookie to the user; None (logged out) when the
    password has changed since the session began."""
    number = user_id.partition(".")[0]
    user = db.session.get(User, int(number)) if number.isdigit() else None
    if user is None or user.get_id() != user_id:
        return None
    return user


def _session_epoch(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)
