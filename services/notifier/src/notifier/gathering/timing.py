"""When a gathered notice may go: the grace after a follow, the user's quiet hours and the hour of
their daily digest, each in the user's own time zone. Pure functions of the times they are given."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from microblog_contracts import MailProfile, NoticeMode, QuietHours


def zone(name: str) -> ZoneInfo:
    """The user's time zone; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def mode_of(profile: MailProfile | None, default: NoticeMode) -> NoticeMode:
    """The user's choice, else the deployment's FOLLOW_NOTICE_DEFAULT."""
    chosen = profile.preferences.follow_notices if profile is not None else None
    return chosen or default


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, profile: MailProfile) -> datetime | None:
    """If `now` falls in the user's quiet hours, when they end (UTC); else None."""
    quiet: QuietHours | None = profile.preferences.quiet_hours
    if quiet is None:
        return None
    tz = zone(profile.time_zone)
    local = now.astimezone(tz)
    start, end = _clock(quiet.start), _clock(quiet.end)
    today = local.date()
    if start < end:  # e.g. 13:00-14:00
        begins, ends = datetime.combine(today, start, tz), datetime.combine(today, end, tz)
        return ends.astimezone(UTC) if begins <= local < ends else None
    # spans midnight, e.g. 22:00-07:00
    if local.time() >= start:
        return datetime.combine(today + timedelta(days=1), end, tz).astimezone(UTC)
    if local.time() < end:
        return datetime.combine(today, end, tz).astimezone(UTC)
    return None


def next_digest(after: datetime, profile: MailProfile) -> datetime:
    """The first digest time (the user's digest hour, in their zone) at or after `after` (UTC)."""
    tz = zone(profile.time_zone)
    local = after.astimezone(tz)
    hour = time(profile.preferences.digest_hour)
    candidate = datetime.combine(local.date(), hour, tz)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), hour, tz)
    return candidate.astimezone(UTC)


def first_due(mode: NoticeMode, followed_at: datetime, grace: timedelta, profile: MailProfile) -> datetime:
    """When a new notice of this mode may go at the earliest: after the grace, and for a daily
    digest at the next digest hour after that."""
    earliest = followed_at + grace
    return next_digest(earliest, profile) if mode is NoticeMode.DAILY else earliest
