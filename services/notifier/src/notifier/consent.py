"""Whether a mail may go: the recipient's consent and the limits that protect them.

A notification goes only to a confirmed address that has not been refused since it was last
confirmed, when its recipient has not turned its kind off, once per cooldown per subject, and
within the daily cap. A transactional mail (a confirmation link, a password reset) goes whatever
the preferences, but never after its link has expired. Pure decisions: the pipeline gathers the
facts (one ledger round trip) and records what these say.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from microblog_contracts import MailProfile, NoticeMode, Preference

from notifier.kinds import Mail, Policy
from notifier.ledger import Facts

#: How far back the daily cap counts.
CAP_WINDOW = timedelta(hours=24)


class SkipReason(enum.StrEnum):
    """Why a mail was deliberately not sent (the words `notifier skipped list` and users read)."""

    UNCONFIRMED = "unconfirmed"  # the address is not confirmed yet
    UNSUBSCRIBED = "unsubscribed"  # the recipient turned this kind of mail off
    SUPPRESSED = "suppressed"  # the address was refused for good, and not confirmed again since
    COOLDOWN = "cooldown"  # a mail about the same subject went out inside NOTIFIER_COOLDOWN
    DAILY_CAP = "daily_cap"  # NOTIFIER_DAILY_CAP notifications went to the address in 24 hours
    EXPIRED = "expired"  # the link in it expired before it could be sent
    FOLLOW_UNDONE = "follow_undone"  # the follow was undone before its notice went
    CANCELLED = "cancelled"  # an operator cancelled the announcement before it reached them
    USER_DELETED = "user_deleted"  # the recipient (or the follower it is about) deleted their account


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason
    detail: str


@dataclass(frozen=True, slots=True)
class Limits:
    cooldown: timedelta
    #: Notifications to one address per 24 hours; 0 means no cap.
    daily_cap: int


def newest_profile(mail: Mail, facts: Facts) -> Mail:
    """`mail` addressed by the newest profile known: the event's, or a later change's."""
    known = facts.profile
    if known is not None and (mail.profile is None or known.version > mail.profile.version):
        return mail.for_profile(known)
    return mail


def wants(profile: MailProfile, preference: Preference, default_mode: NoticeMode = NoticeMode.IMMEDIATELY) -> bool:
    """Whether the user has this kind of notification on (follow notices: their mode, else the default)."""
    if preference is Preference.FOLLOW_NOTICES:
        return (profile.preferences.follow_notices or default_mode) is not NoticeMode.OFF
    return profile.preferences.announcements


def refused(profile: MailProfile | None, preference: Preference | None, suppressed_at: datetime | None,
            default_mode: NoticeMode = NoticeMode.IMMEDIATELY) -> Skip | None:
    """Why the recipient does not want (or cannot take) a notification, if they do not."""
    if profile is None:  # events from before profiles say nothing of consent: they go
        return Skip(SkipReason.SUPPRESSED, "the address was refused for good") if suppressed_at else None
    if not profile.confirmed:
        return Skip(SkipReason.UNCONFIRMED, "the address is not confirmed")
    if preference is not None and not wants(profile, preference, default_mode):
        return Skip(SkipReason.UNSUBSCRIBED, f"{preference.value} are off")
    confirmed_at = profile.email_confirmed_at
    if suppressed_at is not None and (confirmed_at is None or suppressed_at > confirmed_at):
        return Skip(SkipReason.SUPPRESSED, "the address was refused for good")
    return None


def why_not(mail: Mail, facts: Facts, limits: Limits, now: datetime, *, limits_apply: bool = True,
            default_mode: NoticeMode = NoticeMode.IMMEDIATELY) -> Skip | None:
    """The reason `mail` must not go now, or None if it may. `limits_apply=False` checks consent
    only (for a notice that waits: the cooldown and the cap are checked when it goes)."""
    if mail.policy is Policy.TRANSACTIONAL:
        if mail.expires_at is not None and mail.expires_at <= now:
            return Skip(SkipReason.EXPIRED, f"its link expired at {mail.expires_at.isoformat(timespec='seconds')}")
        return None
    skip = refused(mail.profile, mail.preference, facts.suppressed_at, default_mode)
    if skip is not None or not limits_apply:
        return skip
    last = facts.notice
    refollow = last is not None and last.event_id != mail.event_id
    if last is not None and refollow and abs(mail.occurred_at - last.occurred_at) < limits.cooldown:
        return Skip(SkipReason.COOLDOWN, f"mailed {last.event_id} within the cooldown")
    if limits.daily_cap and facts.sent_recently >= limits.daily_cap:
        return Skip(SkipReason.DAILY_CAP, f"{facts.sent_recently} notifications in 24 hours")
    return None
