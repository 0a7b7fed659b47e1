"""The columns of a user that their mail depends on, kept apart from the account itself."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Boolean, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from social.accounts import EMAIL_MAX
from social.dbtypes import UTCDateTime

DEFAULT_TIME_ZONE = "UTC"
DEFAULT_DIGEST_HOUR = 8
BOUNCE_REPLY_MAX = 500


def new_unsubscribe_salt() -> str:
    """A user's own part of their unsubscribe links: changing it revokes every link they have."""
    return secrets.token_hex(16)


class MailState:
    """Address confirmation and bounce, preferences, and the version each mail-relevant change
    bumps (see :mod:`social.mail.profiles`). Mixed into :class:`social.models.User`."""

    #: When `email` was last confirmed; None while it is not.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: A new address waiting for its confirmation; mail goes to `email` until then.
    pending_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), default=None)
    #: When mail to `email` was refused for good, and the server's words.
    email_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    email_bounce_reply: Mapped[str | None] = mapped_column(String(BOUNCE_REPLY_MAX), default=None)
    #: Grows with every mail-relevant change: of two snapshots the notifier keeps the higher.
    profile_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A :class:`NoticeMode`'s name; None while the user has not chosen, so that they follow
    #: FOLLOW_NOTICE_DEFAULT (each process's own) wherever it is set, now and after it changes.
    follow_notices: Mapped[str | None] = mapped_column(String(16), default=None)
    announcements: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa.true())
    #: An IANA name, checked with zoneinfo when set.
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE)
    digest_hour: Mapped[int] = mapped_column(
        SmallInteger, default=DEFAULT_DIGEST_HOUR, server_default=str(DEFAULT_DIGEST_HOUR)
    )
    #: `HH:MM` in the user's time zone, both or neither; `end` before `start` spans midnight.
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5), default=None)
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5), default=None)
    unsubscribe_salt: Mapped[str] = mapped_column(String(32), default=new_unsubscribe_salt)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def email_bounced(self) -> bool:
        return self.email_bounced_at is not None
