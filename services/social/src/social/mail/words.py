"""The notifier's codes for kinds of mail and reasons, in words a user reads on their settings
page, with times in the user's own time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, tzinfo

from social.mail.state import DEFAULT_TIME_ZONE
from social.translate import _, _l

KINDS = {
    "follower_email": _l("New follower"),
    "follower_batch": _l("New followers"),
    "follower_digest": _l("Daily digest of new followers"),
    "email_confirmation": _l("Address confirmation"),
    "password_reset": _l("Password reset"),
    "email_change_notice": _l("Address change notice"),
    "announcement": _l("Announcement"),
}

OUTCOMES = {"sent": _l("Sent"), "skipped": _l("Not sent"), "failed": _l("Could not be sent")}
#: A notice that went inside another mail (gathered, or moved into a digest) was not lost.
GATHERED = _l("Not sent on its own")

# No `quiet_hours` here: a notice in the quiet hours waits and goes out after them, skipped never.
REASONS = {
    "unconfirmed": _l("your address was not confirmed yet"),
    "unsubscribed": _l("you had turned this kind of mail off"),
    "suppressed": _l("mail to your address had been refused before"),
    "cooldown": _l("the same person had followed you shortly before, and you got a mail then"),
    "daily_cap": _l("you had already had the most notification mails we send in a day"),
    "expired": _l("its link had expired before it could go"),
    "follow_undone": _l("the follow was undone before the mail went"),
    "recipient_refused": _l("your mail server refused it"),
    "bad_address": _l("your address is not one mail can be sent to"),
    "cancelled": _l("the announcement was cancelled before it reached you"),
}
GENERIC_REASON = _l("something went wrong on our side")


def kind_words(kind: str, subject: str | None = None) -> str:
    """What a mail was, in words; with its subject when it has one worth showing (an announcement's)."""
    words = str(KINDS.get(kind) or kind.replace("_", " ").capitalize())
    return f"{words}: {subject}" if subject else words


def outcome_words(outcome: str, reason: str | None = None, merged_into_at: datetime | None = None) -> str:
    if outcome == "skipped" and _gathered(reason, merged_into_at):
        return str(GATHERED)
    return str(OUTCOMES.get(outcome, outcome))


def reason_words(reason: str | None, merged_into_at: datetime | None = None, zone: tzinfo | None = None) -> str | None:
    """Why a mail did not go (on its own), in words, its times in `zone` (UTC if None); None when
    there is nothing to say."""
    if reason is None:
        return None
    if reason == "merged":
        if merged_into_at is None:
            return _("gathered into another mail")
        return _("gathered into the mail of %(when)s", when=local_time(merged_into_at, zone))
    if reason == "daily_cap" and merged_into_at is not None:
        # Over the cap, a notice waits for the next digest instead of being dropped.
        return _("moved into your next daily digest (%(when)s)", when=local_time(merged_into_at, zone))
    return str(REASONS.get(reason, GENERIC_REASON))


def _gathered(reason: str | None, merged_into_at: datetime | None) -> bool:
    return reason == "merged" or (reason == "daily_cap" and merged_into_at is not None)


def local_time(at: datetime, zone: tzinfo | None) -> str:
    """`at` as a user reads it: `2026-12-01 23:05 CET` in their zone."""
    return at.astimezone(zone or zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)).strftime("%Y-%m-%d %H:%M %Z")


def user_zone(name: str) -> tzinfo:
    """The zone of a stored name; UTC should the tz database no longer know it."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
