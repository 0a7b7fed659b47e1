"""The words of the mail history: kinds, outcomes and reasons, with times in the user's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from social.mail.words import REASONS, kind_words, local_time, outcome_words, reason_words, user_zone

BERLIN = user_zone("Europe/Berlin")
AT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # already the 2nd in Berlin


def test_gathered_mail_and_the_daily_digest_have_words_of_their_own() -> None:
    assert kind_words("follower_batch") == "New followers"
    assert kind_words("follower_digest") == "Daily digest of new followers"
    assert kind_words("some_new_kind") == "Some new kind"


def test_a_notice_gathered_into_another_mail_says_when_that_mail_went_in_the_users_zone() -> None:
    assert reason_words("merged", AT, BERLIN) == "gathered into the mail of 2026-12-02 00:30 CET"
    assert outcome_words("skipped", "merged", AT) == "Not sent on its own"
    assert reason_words("merged") == "gathered into another mail"


def test_over_the_daily_cap_a_notice_moved_into_the_digest_says_so() -> None:
    assert reason_words("daily_cap", AT, BERLIN) == "moved into your next daily digest (2026-12-02 00:30 CET)"
    assert outcome_words("skipped", "daily_cap", AT) == "Not sent on its own"
    assert reason_words("daily_cap") == "you had already had the most notification mails we send in a day"
    assert outcome_words("skipped", "daily_cap") == "Not sent"


def test_an_undone_follow_is_told_and_quiet_hours_are_never_a_reason() -> None:
    assert reason_words("follow_undone") == "the follow was undone before the mail went"
    assert "quiet_hours" not in REASONS  # notices in quiet hours wait; they are never skipped for it


def test_times_are_shown_in_the_users_zone_and_in_utc_for_a_zone_no_longer_known() -> None:
    assert local_time(AT, BERLIN) == "2026-12-02 00:30 CET"
    assert local_time(AT, user_zone("Nowhere/Gone")) == "2026-12-01 23:30 UTC"
    assert local_time(AT, None) == "2026-12-01 23:30 UTC"
