"""`/settings/notifications`: the default and each mode in words, the time zone, digest hour and
quiet hours, an error by each wrong field, and the profile event each change records."""

from __future__ import annotations

import html

from flask.testing import FlaskClient
from microblog_contracts import USER_PROFILE_CHANGED
from social.extensions import db
from social.models import User
from sqlalchemy import select

from tests.support.social_app import log_in, make_user, recorded_events

PAGE = "/settings/notifications"
#: What a browser posts when nothing is changed on the page of a user with the defaults.
UNCHANGED = {"follow_notices": "default", "announcements": "y", "time_zone": "UTC", "digest_hour": "8",
             "quiet_hours_start": "", "quiet_hours_end": ""}


def susan() -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.nickname == "susan")).one()


def page_text(client: FlaskClient, data: dict[str, str] | None = None) -> str:
    response = client.post(PAGE, data=data) if data is not None else client.get(PAGE)
    assert response.status_code == 200, response.status
    return html.unescape(response.get_data(as_text=True))


def logged_in(client: FlaskClient, **fields: object) -> None:
    make_user("susan", profile_version=1, **fields)
    log_in(client, "susan")


def test_the_page_shows_the_default_and_explains_each_mode_in_one_line(client: FlaskClient) -> None:
    logged_in(client)
    page = page_text(client)
    assert 'checked id="follow_notices-0" name="follow_notices" type="radio" value="default"' in page
    for words in (
        "The default, now batched: the first follow mailed after a minute; the rest of a busy spell gathered",
        "Immediately: a mail for each follow, a minute after it.",
        "Batched: the first follow mailed after a minute; the rest of a busy spell gathered into one mail.",
        "Daily: one digest a day, at the hour you choose below.",
        "Off: no mail about new followers.",
    ):
        assert words in page, words
    assert '<option selected value="8">08:00</option>' in page
    assert '<option value="Europe/Berlin">' in page  # the searchable list of zones
    assert 'name="time_zone" spellcheck="false" type="text" value="UTC"' in page


def test_the_page_saves_every_preference_with_one_profile_event(client: FlaskClient) -> None:
    logged_in(client)
    response = client.post(PAGE, data={**UNCHANGED, "follow_notices": "daily", "time_zone": "America/New_York",
                                       "digest_hour": "18", "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"},
                           follow_redirects=True)
    assert "Your notification settings have been saved." in response.get_data(as_text=True)
    user = susan()
    assert (user.follow_notices, user.time_zone, user.digest_hour, user.quiet_hours_start, user.quiet_hours_end,
            user.announcements) == ("daily", "America/New_York", 18, "22:00", "07:00", True)
    [event] = recorded_events(USER_PROFILE_CHANGED)
    assert (event.data.profile.version, event.data.profile.time_zone) == (2, "America/New_York")
    page = page_text(client)
    assert 'checked id="follow_notices-3" name="follow_notices" type="radio" value="daily"' in page
    assert 'value="22:00"' in page and 'value="07:00"' in page


def test_the_default_button_goes_back_to_the_default(client: FlaskClient) -> None:
    logged_in(client, follow_notices="off")
    client.post(PAGE, data=UNCHANGED)
    assert susan().follow_notices is None
    [event] = recorded_events(USER_PROFILE_CHANGED)
    assert event.data.profile.preferences.follow_notices is None


def test_saving_the_page_unchanged_records_nothing(client: FlaskClient) -> None:
    logged_in(client)
    client.post(PAGE, data=UNCHANGED)
    assert recorded_events() == []


def test_an_unticked_box_is_off_and_a_field_left_out_keeps_its_value(client: FlaskClient) -> None:
    logged_in(client, time_zone="Asia/Tokyo", quiet_hours_start="22:00", quiet_hours_end="07:00", digest_hour=6)
    client.post(PAGE, data={"follow_notices": "off"})
    user = susan()
    assert (user.follow_notices, user.announcements) == ("off", False)
    assert (user.time_zone, user.digest_hour, user.quiet_hours_start, user.quiet_hours_end) == (
        "Asia/Tokyo", 6, "22:00", "07:00")


def test_emptying_both_quiet_hours_removes_them(client: FlaskClient) -> None:
    logged_in(client, quiet_hours_start="22:00", quiet_hours_end="07:00")
    client.post(PAGE, data=UNCHANGED)
    assert (susan().quiet_hours_start, susan().quiet_hours_end) == (None, None)


def test_each_wrong_field_shows_its_error_and_nothing_is_saved(client: FlaskClient) -> None:
    logged_in(client)
    cases = [
        ({"time_zone": "Mars/Olympus"}, "Not a time zone we know: give an IANA name such as Europe/Berlin"),
        ({"quiet_hours_start": "10pm", "quiet_hours_end": "07:00"},
         "Quiet hours from: A time of day as HH:MM, 24-hour, such as 22:00."),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "Quiet hours until: Must differ from the start"),
        ({"quiet_hours_start": "22:00"}, "Quiet hours until: Give both times, or neither."),
        ({"follow_notices": "sometimes"}, "Input should be 'immediately', 'batched', 'daily' or 'off'."),
        ({"digest_hour": "24"}, "An hour from 0 to 23."),
    ]
    for fields, error in cases:
        assert error in page_text(client, {**UNCHANGED, **fields}), error
    both = page_text(client, {**UNCHANGED, "time_zone": "Mars/Olympus", "quiet_hours_start": "22:00"})
    assert "Not a time zone we know" in both and "Give both times, or neither." in both
    assert recorded_events() == []
    assert susan().time_zone == "UTC"


def test_the_page_needs_a_login(client: FlaskClient) -> None:
    assert client.get(PAGE).location.startswith("/auth/login")
