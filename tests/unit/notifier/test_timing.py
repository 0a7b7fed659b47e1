"""When a waiting notice may go: quiet hours and digest hours, in the recipient's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from microblog_contracts import MailPreferences, NoticeMode, QuietHours
from notifier.gathering.timing import first_due, mode_of, next_digest, quiet_until

from tests.support.events import profile

BERLIN_NIGHTS = profile(time_zone="Europe/Berlin", preferences=MailPreferences(
    quiet_hours=QuietHours(start="22:00", end="07:00"), digest_hour=8))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_quiet_hours_that_span_midnight_hold_until_the_morning_in_the_users_zone() -> None:
    # Berlin is UTC+1 in December: 22:00-07:00 there is 21:00-06:00 UTC.
    assert quiet_until(utc(2026, 12, 1, 20, 59), BERLIN_NIGHTS) is None
    assert quiet_until(utc(2026, 12, 1, 21, 0), BERLIN_NIGHTS) == utc(2026, 12, 2, 6, 0)
    assert quiet_until(utc(2026, 12, 2, 3, 0), BERLIN_NIGHTS) == utc(2026, 12, 2, 6, 0)
    assert quiet_until(utc(2026, 12, 2, 6, 0), BERLIN_NIGHTS) is None


def test_quiet_hours_inside_one_day_and_none_at_all() -> None:
    lunch = profile(preferences=MailPreferences(quiet_hours=QuietHours(start="12:00", end="13:30")))
    assert quiet_until(utc(2026, 12, 1, 12, 45), lunch) == utc(2026, 12, 1, 13, 30)
    assert quiet_until(utc(2026, 12, 1, 13, 30), lunch) is None
    assert quiet_until(utc(2026, 12, 1, 12, 45), profile()) is None


def test_the_digest_goes_at_the_users_hour_and_follows_the_clock_change() -> None:
    assert next_digest(utc(2026, 12, 1, 6, 0), BERLIN_NIGHTS) == utc(2026, 12, 1, 7, 0)  # 08:00 CET
    assert next_digest(utc(2026, 12, 1, 7, 1), BERLIN_NIGHTS) == utc(2026, 12, 2, 7, 0)
    assert next_digest(utc(2026, 7, 1, 5, 0), BERLIN_NIGHTS) == utc(2026, 7, 1, 6, 0)  # 08:00 CEST


def test_a_daily_notice_waits_for_the_digest_after_its_grace_and_the_others_only_the_grace() -> None:
    at = utc(2026, 12, 1, 6, 59, 30)
    assert first_due(NoticeMode.DAILY, at, timedelta(minutes=1), BERLIN_NIGHTS) == utc(2026, 12, 2, 7, 0)
    assert first_due(NoticeMode.BATCHED, at, timedelta(minutes=1), BERLIN_NIGHTS) == at + timedelta(minutes=1)


def test_a_user_who_has_not_chosen_gets_the_deployments_default() -> None:
    assert mode_of(profile(), NoticeMode.BATCHED) is NoticeMode.BATCHED
    assert mode_of(profile(follow_notices=NoticeMode.OFF), NoticeMode.BATCHED) is NoticeMode.OFF
    unknown_zone = profile(time_zone="Mars/Olympus_Mons")
    assert next_digest(utc(2026, 12, 1, 6, 0), unknown_zone) == utc(2026, 12, 1, 8, 0)  # UTC
