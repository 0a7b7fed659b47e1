"""The durations and times operators type, read the same way by every command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from microblog_plumbing.moments import format_age, parse_duration, parse_moment
from microblog_plumbing.settings import split_list

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_durations_read_units_and_a_bare_number_is_seconds() -> None:
    assert parse_duration("250ms") == timedelta(milliseconds=250)
    assert parse_duration("6h") == timedelta(hours=6)
    assert parse_duration("90") == timedelta(seconds=90)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_a_time_is_iso_in_utc_unless_it_says_otherwise_or_a_duration_ago() -> None:
    assert parse_moment("90", NOW) == NOW - timedelta(seconds=90)
    assert parse_moment("2d", NOW) == NOW - timedelta(days=2)
    assert parse_moment("2026-11-24T14:00", NOW) == datetime(2026, 11, 24, 14, tzinfo=UTC)
    assert parse_moment("2026-11-24T14:00+01:00", NOW) == datetime(2026, 11, 24, 13, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_moment("yesterday", NOW)


def test_ages_are_short() -> None:
    assert [format_age(s) for s in (5, 600, 7500, 200000)] == ["5s", "10m", "2h05m", "2d7h"]


def test_a_list_setting_is_a_json_list_or_comma_separated() -> None:
    assert split_list('["a@example.com", "b@example.com"]') == ["a@example.com", "b@example.com"]
    assert split_list("a@example.com, b@example.com,") == ["a@example.com", "b@example.com"]
    with pytest.raises(ValueError, match="not a JSON list"):
        split_list('["a@example.com",')
