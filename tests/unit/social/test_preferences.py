"""Notification preferences: the API, the settings page, and the profile event each change records."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from microblog_contracts import USER_PROFILE_CHANGED
from social.extensions import db
from social.models import User
from sqlalchemy import select

from tests.support.social_app import api_token, bearer, log_in, make_user, recorded_events

DEFAULTS = {"follow_notices": "immediately", "announcements": True}


@pytest.fixture
def headers(client: FlaskClient) -> dict[str, str]:
    make_user("susan", profile_version=1)
    return bearer(api_token(client, "susan"))


def test_follow_notices_and_announcements_are_on_by_default(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/api/users/me/preferences", headers=headers)
    assert (response.status_code, response.get_json()) == (200, DEFAULTS)


def test_a_put_changes_only_the_fields_it_sends(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.put("/api/users/me/preferences", json={"announcements": False}, headers=headers)
    assert (response.status_code, response.get_json()) == (200, {**DEFAULTS, "announcements": False})
    response = client.put("/api/users/me/preferences", json={"follow_notices": "off"}, headers=headers)
    assert response.get_json() == {"follow_notices": "off", "announcements": False}


def test_each_change_records_the_profile_with_a_higher_version(client: FlaskClient, headers: dict[str, str]) -> None:
    client.put("/api/users/me/preferences", json={"follow_notices": "off"}, headers=headers)
    client.put("/api/users/me/preferences", json={"announcements": False}, headers=headers)
    profiles = [e.data.profile for e in recorded_events(USER_PROFILE_CHANGED)]
    assert [p.version for p in profiles] == [2, 3]
    assert [(p.preferences.follow_notices, p.preferences.announcements) for p in profiles] == [
        ("off", True), ("off", False)]


def test_a_put_that_changes_nothing_records_nothing(client: FlaskClient, headers: dict[str, str]) -> None:
    for body in ({}, DEFAULTS, {"announcements": True}):
        assert client.put("/api/users/me/preferences", json=body, headers=headers).get_json() == DEFAULTS
    assert recorded_events() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"follow_notices": "batched"}, "follow_notices"),  # a mode the floods issue brings
        ({"follow_notices": "sometimes"}, "follow_notices"),
        ({"follow_notices": None}, "follow_notices"),
        ({"follow_notices": 1}, "follow_notices"),
        ({"announcements": "yes"}, "announcements"),
        ({"announcements": None}, "announcements"),
        ({"digest": True}, "digest"),
    ],
)
def test_unknown_fields_and_values_are_a_422_naming_the_field(
    client: FlaskClient, headers: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = client.put("/api/users/me/preferences", json=body, headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == [field]
    assert client.get("/api/users/me/preferences", headers=headers).get_json() == DEFAULTS


def test_preferences_need_a_token(client: FlaskClient) -> None:
    assert client.get("/api/users/me/preferences").status_code == 401
    assert client.put("/api/users/me/preferences", json={}).status_code == 401


def test_the_settings_page_changes_the_preferences(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert '<option selected value="immediately">' in page
    response = client.post("/settings/notifications", data={"follow_notices": "off"}, follow_redirects=True)
    assert "Your notification settings have been saved." in response.get_data(as_text=True)
    user = db.session.scalars(select(User)).one()
    db.session.refresh(user)
    assert (user.follow_notices, user.announcements) == ("off", False)  # an unticked box is off
    assert len(recorded_events(USER_PROFILE_CHANGED)) == 1


def test_the_settings_page_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/settings/notifications").location.startswith("/auth/login")
