"""Links mailed to a user (confirm an address, reset a password): only a token's SHA-256 is kept.

A token is 32 random bytes; the database finds its row by the hash, so the comparison an attacker
could time is between hashes of their guesses, which says nothing about a real token. Each
purpose adds its own rule for when a link is dead (:mod:`social.mail.confirmations`,
:mod:`social.mail.resets`).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from social.accounts import EMAIL_MAX
from social.dbtypes import UTCDateTime, utcnow
from social.extensions import db
from social.translate import _l


class TokenPurpose(enum.StrEnum):
    CONFIRM = "confirm"
    RESET = "reset"


class LinkProblem(enum.StrEnum):
    """Why a link does not work: unknown (404), or known but used, expired or dead (410)."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    DEAD = "dead"  # the address or password it was about has changed since

    @property
    def status(self) -> int:
        return 404 if self is LinkProblem.UNKNOWN else 410

    @property
    def words(self) -> str:
        return str(_PROBLEM_WORDS[self])


_PROBLEM_WORDS = {
    LinkProblem.UNKNOWN: _l("This link is not one we sent. Check that it was copied whole."),
    LinkProblem.USED: _l("This link has been used already: each works once."),
    LinkProblem.EXPIRED: _l("This link has expired. Ask for a new one."),
    LinkProblem.DEAD: _l("This link no longer works: what it was about has changed since it was sent."),
}


class MailToken(db.Model):  # type: ignore[name-defined,misc]
    """One link mailed to `address`, good until `expires_at`, once."""

    __tablename__ = "mail_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(EMAIL_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Set when what the link was about changed (the address, the password): it is dead.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(
        cls, user_id: int, purpose: TokenPurpose, address: str, *, lifetime: timedelta, now: datetime
    ) -> tuple[MailToken, str]:
        """A new row (added to the session) and the token to put in the mail, never stored."""
        token = secrets.token_urlsafe(32)
        row = cls(token_hash=cls.hash(token), user_id=user_id, purpose=purpose.value, address=address,
                  created_at=now, expires_at=now + lifetime)
        db.session.add(row)
        return row, token

    @classmethod
    def find(cls, token: str, purpose: TokenPurpose) -> MailToken | None:
        """The row of `token` for `purpose`, used or not; None for anything else."""
        if not token or len(token) > 200:
            return None
        row: MailToken | None = db.session.scalar(
            select(cls).where(cls.token_hash == cls.hash(token), cls.purpose == purpose.value)
        )
        return row

    @classmethod
    def spend(cls, token_id: int, now: datetime) -> bool:
        """Mark the link used if it still works: True for the one request that gets to use it."""
        result = db.session.execute(
            update(cls)
            .where(cls.id == token_id, cls.used_at.is_(None), cls.revoked_at.is_(None), cls.expires_at > now)
            .values(used_at=now),
            execution_options={"synchronize_session": False},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @classmethod
    def revoke(cls, user_id: int, now: datetime, purpose: TokenPurpose | None = None) -> None:
        """Kill every link of `user_id` still in use (of one `purpose`, if given)."""
        query = update(cls).where(cls.user_id == user_id, cls.used_at.is_(None), cls.revoked_at.is_(None),
                                  cls.expires_at > now)
        if purpose is not None:
            query = query.where(cls.purpose == purpose.value)
        db.session.execute(query.values(revoked_at=now), execution_options={"synchronize_session": False})

    def problem(self, now: datetime) -> LinkProblem | None:
        """Why this link cannot be used now, as far as the token itself tells."""
        if self.used_at is not None:
            return LinkProblem.USED
        if self.revoked_at is not None:
            return LinkProblem.DEAD
        if self.expires_at <= now:
            return LinkProblem.EXPIRED
        return None
