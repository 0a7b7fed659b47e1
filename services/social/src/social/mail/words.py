"""The notifier's codes for kinds of mail and reasons, in words a user reads on their settings
page, with times in the user's own time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, tzinfo

from social.mail.state import DEFAULT_TIME_ZONE

KINDS = {
    "follower_email": "New follower",
    "follower_batch": "New followers",
    "follower_digest": "Daily digest of new followers",
    "email_confirmation": "Address confirmation",
    "password_reset": "Password reset",
    "email_change_notice": "Address change notice",
    "announcement": "Announcement",
}

OUTCOMES = {"sent": "Sent", "skipped": "Not sent", "failed": "Could not be sent"}
#: A notice that went inside another mail (gathered, or moved into a digest) was not lost.
GATHERED = "Not sent on its own"

# No `quiet_hours` here: a notice in the quiet hours waits and goes out after them, skipped never.
REASONS = {
    "unconfirmed": "your address was not confirmed yet",
    "unsubscribed": "you had turned this kind of mail off",
    "suppressed": "mail to your address had been refused before",
    "cooldown": "the same person had followed you shortly before, and you got a mail then",
    "daily_cap": "you had already had the most notification mails we send in a day",
    "expired": "its link had expired before it could go",
    "follow_undone": "the follow was undone before the mail went",
    "recipient_refused": "your mail server refused it",
    "bad_address": "your address is not one mail can be sent to",
    "cancelled": "the announcement was cancelled before it reached you",
}
GENERIC_REASON = "something went wrong on our side"


def kind_words(kind: str, subject: str | None = None) -> str:
    """What a mail was, in words; with its subject when it has one worth showing (an announcement's)."""
    words = KINDS.get(kind) or kind.replace("_", " ").capitalize()
    return f"{words}: {subject}" if subject else words


def outcome_words(outcome: str, reason: str | None = None, merged_into_at: datetime | None = None) -> str:
    if outcome == "skipped" and _gathered(reason, merged_into_at):
        return GATHERED
    return OUTCOMES.get(outcome, outcome)


def reason_words(reason: str | None, merged_into_at: datetime | None = None, zone: tzinfo | None = None) -> str | None:
    """Why a mail did not go (on its own), in words, its times in `zone` (UTC if None); None when
    there is nothing to say."""
    if reason is None:
        return None
    if reason == "merged":
        if merged_into_at is None:
            return "gathered into another mail"
        return f"gathered into the mail of {local_time(merged_into_at, zone)}"
    if reason == "daily_cap" and merged_into_at is not None:
        # Over the cap, a notice waits for the next digest instead of being dropped.
        return f"moved into your next daily digest ({local_time(merged_into_at, zone)})"
    return REASONS.get(reason, GENERIC_REASON)


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
