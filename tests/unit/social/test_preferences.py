"""Notification preferences through the API: the default mode, choosing and going back to it, the
time zone, digest hour and quiet hours, each field's validation, and the profile event each change
records. (The settings page: test_notifications_page.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from microblog_contracts import USER_PROFILE_CHANGED
from social.extensions import db
from social.mail.profiles import mail_profile
from social.models import User
from sqlalchemy import select

from tests.support.social_app import api_token, bearer, build_app, make_user, recorded_events

URL = "/api/users/me/preferences"
DEFAULTS = {
    "follow_notices": "batched", "follow_notices_chosen": False, "follow_notices_default": "batched",
    "announcements": True, "time_zone": "UTC", "digest_hour": 8, "quiet_hours": None,
}


@pytest.fixture
def headers(client: FlaskClient) -> dict[str, str]:
    make_user("susan", profile_version=1)
    return bearer(api_token(client, "susan"))


def susan() -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.nickname == "susan")).one()


def put(client: FlaskClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = client.put(URL, json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_user_who_has_not_chosen_gets_the_default_and_their_profile_says_none(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (200, DEFAULTS)
    assert susan().follow_notices is None
    assert mail_profile(susan()).preferences.follow_notices is None


def test_the_default_is_the_follow_notice_default_setting(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'daily.db'}", migrate=False, follow_notice_default="daily")
    with app.app_context():
        make_user("susan")
        client = app.test_client()
        body = client.get(URL, headers=bearer(api_token(client, "susan"))).get_json()
    assert (body["follow_notices"], body["follow_notices_chosen"], body["follow_notices_default"]) == (
        "daily", False, "daily")


def test_choosing_a_mode_pins_it_and_null_goes_back_to_the_default(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    chosen = put(client, headers, {"follow_notices": "batched"})  # the default's mode, but chosen
    assert (chosen["follow_notices"], chosen["follow_notices_chosen"]) == ("batched", True)
    assert put(client, headers, {"follow_notices": "daily"})["follow_notices"] == "daily"
    assert put(client, headers, {"follow_notices": None}) == DEFAULTS
    assert susan().follow_notices is None
    profiles = [event.data.profile for event in recorded_events(USER_PROFILE_CHANGED)]
    assert [(p.version, p.preferences.follow_notices) for p in profiles] == [(2, "batched"), (3, "daily"), (4, None)]


def test_a_put_changes_only_the_fields_it_sends(client: FlaskClient, headers: dict[str, str]) -> None:
    assert put(client, headers, {"announcements": False}) == {**DEFAULTS, "announcements": False}
    assert put(client, headers, {"time_zone": "Europe/Berlin", "digest_hour": 19}) == {
        **DEFAULTS, "announcements": False, "time_zone": "Europe/Berlin", "digest_hour": 19}
    user = susan()
    assert (user.announcements, user.time_zone, user.digest_hour) == (False, "Europe/Berlin", 19)


def test_an_hour_written_as_a_whole_float_is_an_hour_as_json_schema_counts_it(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    assert put(client, headers, {"digest_hour": 7.0})["digest_hour"] == 7


def test_quiet_hours_may_span_midnight_and_null_removes_them(client: FlaskClient, headers: dict[str, str]) -> None:
    overnight = {"start": "22:00", "end": "07:00"}
    assert put(client, headers, {"quiet_hours": overnight})["quiet_hours"] == overnight
    assert (susan().quiet_hours_start, susan().quiet_hours_end) == ("22:00", "07:00")
    assert put(client, headers, {"quiet_hours": {"start": "13:00", "end": "14:30"}})["quiet_hours"] == {
        "start": "13:00", "end": "14:30"}
    assert put(client, headers, {"quiet_hours": None})["quiet_hours"] is None
    assert (susan().quiet_hours_start, susan().quiet_hours_end) == (None, None)


def test_every_change_records_the_whole_profile_with_a_growing_version(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    for body in ({"follow_notices": "off"}, {"announcements": False}, {"time_zone": "Asia/Tokyo"},
                 {"digest_hour": 6}, {"quiet_hours": {"start": "23:30", "end": "06:15"}}, {"quiet_hours": None}):
        put(client, headers, body)
    profiles = [e.data.profile for e in recorded_events(USER_PROFILE_CHANGED)]
    assert [p.version for p in profiles] == [2, 3, 4, 5, 6, 7]
    last_but_one = profiles[-2]
    assert (last_but_one.time_zone, last_but_one.preferences.follow_notices, last_but_one.preferences.announcements,
            last_but_one.preferences.digest_hour) == ("Asia/Tokyo", "off", False, 6)
    assert last_but_one.preferences.quiet_hours is not None
    assert last_but_one.preferences.quiet_hours.model_dump() == {"start": "23:30", "end": "06:15"}
    assert profiles[-1].preferences.quiet_hours is None


def test_a_put_that_changes_nothing_records_nothing(client: FlaskClient, headers: dict[str, str]) -> None:
    for body in ({}, {"announcements": True}, {"follow_notices": None}, {"time_zone": "UTC", "digest_hour": 8},
                 {"quiet_hours": None}):
        assert put(client, headers, body) == DEFAULTS
    assert recorded_events() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"follow_notices": "sometimes"}, "follow_notices"),
        ({"follow_notices": 1}, "follow_notices"),
        ({"announcements": "yes"}, "announcements"),
        ({"announcements": None}, "announcements"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "europe/berlin"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"time_zone": 1}, "time_zone"),
        ({"time_zone": None}, "time_zone"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_hour": -1}, "digest_hour"),
        ({"digest_hour": "8"}, "digest_hour"),
        ({"digest_hour": 8.5}, "digest_hour"),
        ({"digest_hour": True}, "digest_hour"),
        ({"digest_hour": None}, "digest_hour"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "7:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "days": "weekdays"}}, "quiet_hours.days"),
        ({"quiet_hours": "22:00-07:00"}, "quiet_hours"),
        ({"digest": True}, "digest"),
    ],
)
def test_a_wrong_field_or_value_is_a_422_naming_the_field_and_changes_nothing(
    client: FlaskClient, headers: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = client.put(URL, json=body, headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == [field]
    assert client.get(URL, headers=headers).get_json() == DEFAULTS
    assert recorded_events() == []


def test_the_errors_say_what_is_wanted(client: FlaskClient, headers: dict[str, str]) -> None:
    def error(body: dict[str, object]) -> str:
        fields: dict[str, str] = client.put(URL, json=body, headers=headers).get_json()["fields"]
        return next(iter(fields.values()))

    assert "IANA name such as Europe/Berlin" in error({"time_zone": "Berlin"})
    assert error({"digest_hour": 30}) == "an hour from 0 to 23"
    assert "HH:MM" in error({"quiet_hours": {"start": "10pm", "end": "07:00"}})
    assert "must differ from the start" in error({"quiet_hours": {"start": "07:00", "end": "07:00"}})


def test_preferences_need_a_token(client: FlaskClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={}).status_code == 401
