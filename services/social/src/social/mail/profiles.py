"""A user as the notifier sees them (:class:`MailProfile`), and telling it of every change.

Each mail-relevant change runs `lock_profile` first and `record_profile_changed` last, in one
transaction with the change. The lock is the version's own bump, an UPDATE: it takes the row's
write lock (on SQLite the database's), so the refresh after it reads the latest committed
profile and two changes cannot interleave. Every `user.profile_changed` therefore carries a
version higher than any before it, and the whole profile as it is at that version.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from microblog_contracts import (
    MailPreferences,
    MailProfile,
    NoticeMode,
    Preference,
    QuietHours,
    UserProfileChanged,
    UserProfileChangedData,
)
from pydantic import ValidationError
from sqlalchemy import update

from social.extensions import db
from social.mail.links import Links, current_links
from social.mail.unsubscribe import unsubscribe_token
from social.models import User
from social.outbox.models import record_event

log = structlog.get_logger("social.mail")


def mail_profile(user: User, links: Links | None = None) -> MailProfile:
    """`user`'s profile as every event that asks for a mail carries it.

    Raises ValidationError for an account made around sign-up's checks (an address no mail can
    go to): callers decide whether that is worth a warning or an error.
    """
    links = links or current_links()
    quiet = (
        QuietHours(start=user.quiet_hours_start, end=user.quiet_hours_end)
        if user.quiet_hours_start and user.quiet_hours_end
        else None
    )
    return MailProfile(
        user_id=user.id,
        version=user.profile_version,
        nickname=user.nickname,
        email=user.email,
        email_confirmed_at=user.email_confirmed_at,
        locale=user.locale,
        time_zone=user.time_zone,
        preferences=MailPreferences(
            follow_notices=NoticeMode(user.follow_notices) if user.follow_notices else None,
            announcements=user.announcements,
            digest_hour=user.digest_hour,
            quiet_hours=quiet,
        ),
        unsubscribe_urls={
            preference: links.unsubscribe(unsubscribe_token(user, preference, links.unsubscribe_key))  # type: ignore[misc]
            for preference in Preference
        },
    )


def lock_profile(user: User) -> None:
    """Start a change of `user`'s profile: bump its version, hold its row, read it afresh."""
    db.session.execute(
        update(User).where(User.id == user.id).values(profile_version=User.profile_version + 1),
        execution_options={"synchronize_session": False},
    )
    db.session.refresh(user)


def record_profile_changed(user: User, *, at: datetime) -> None:
    """Add `user.profile_changed` with the profile as it now is to the session's transaction."""
    try:
        profile = mail_profile(user)
    except ValidationError as exc:
        log.warning("profile_without_event", user=user.id, reason=exc.errors()[0]["msg"][:200])
        return
    record_event(UserProfileChanged(time=at, data=UserProfileChangedData(profile=profile, changed_at=at)))
