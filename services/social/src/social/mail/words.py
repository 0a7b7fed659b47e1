"""The notifier's codes for kinds of mail and reasons, in words a user reads on their settings page."""

from __future__ import annotations

from datetime import datetime

KINDS = {
    "follower_email": "New follower",
    "email_confirmation": "Address confirmation",
    "password_reset": "Password reset",
    "email_change_notice": "Address change notice",
}

OUTCOMES = {"sent": "Sent", "skipped": "Not sent", "failed": "Could not be sent"}

REASONS = {
    "unconfirmed": "your address was not confirmed yet",
    "unsubscribed": "you had turned this kind of mail off",
    "suppressed": "mail to your address had been refused before",
    "cooldown": "the same person had followed you shortly before, and you got a mail then",
    "daily_cap": "you had already had the most notification mails we send in a day",
    "expired": "its link had expired before it could go",
    "follow_undone": "the follow was undone before the mail went",
    "recipient_refused": "your mail server refused it",
}
GENERIC_REASON = "something went wrong on our side"


def kind_words(kind: str) -> str:
    return KINDS.get(kind) or kind.replace("_", " ").capitalize()


def reason_words(reason: str | None, merged_into_at: datetime | None = None) -> str | None:
    """Why a mail did not go, in words; None when there is nothing to say."""
    if reason is None:
        return None
    if reason == "merged":
        when = f" of {merged_into_at.strftime('%Y-%m-%d %H:%M UTC')}" if merged_into_at else ""
        return f"it was gathered into another mail{when}"
    return REASONS.get(reason, GENERIC_REASON)
