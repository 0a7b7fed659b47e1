"""Every mail-relevant change records `user.profile_changed` in its own transaction, each with a
higher version and the whole profile as it then is."""

from __future__ import annotations

from flask.testing import FlaskClient
from microblog_contracts import EMAIL_CONFIRMATION_REQUESTED, USER_PROFILE_CHANGED
from social.extensions import db
from social.models import User
from sqlalchemy import select

from tests.support.social_app import PASSWORD, log_in, mailed_token, recorded_events


def test_each_change_of_a_users_mail_profile_records_a_newer_version(client: FlaskClient) -> None:
    client.post("/api/users", json={"nickname": "susan", "email": "susan@example.com", "password": PASSWORD})
    client.post(f"/confirm/{mailed_token(EMAIL_CONFIRMATION_REQUESTED, 'confirm_url')}")
    log_in(client, "susan")
    client.post("/settings/notifications", data={"follow_notices": "off", "announcements": "y"})
    client.post("/settings/profile", data={"about_me": "", "locale": "de", "time_zone": "UTC"})
    client.post("/settings/notifications", data={"time_zone": "Europe/Berlin", "announcements": "y",
                                                 "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"})
    client.post("/settings/profile", data={"about_me": "only this", "locale": "de",  # nothing the mail shows
                                             "time_zone": "Europe/Berlin"})

    profiles = [event.data.profile for event in recorded_events(USER_PROFILE_CHANGED)]

    assert [p.version for p in profiles] == [1, 2, 3, 4, 5]
    assert [p.confirmed for p in profiles] == [False, True, True, True, True]
    assert [p.preferences.follow_notices for p in profiles] == [None, None, "off", "off", "off"]
    assert [(p.locale, p.time_zone) for p in profiles][-2:] == [("de", "UTC"), ("de", "Europe/Berlin")]
    assert profiles[-1].preferences.quiet_hours.model_dump() == {"start": "22:00", "end": "07:00"}  # type: ignore[union-attr]
    user = db.session.scalars(select(User)).one()
    db.session.refresh(user)
    assert user.profile_version == 5


def test_a_time_zone_must_be_an_iana_name(client: FlaskClient) -> None:
    client.post("/api/users", json={"nickname": "susan", "email": "susan@example.com", "password": PASSWORD})
    log_in(client, "susan")
    page = client.post("/settings/notifications", data={"time_zone": "Mars/Olympus", "announcements": "y"})
    assert "Not a time zone we know: give an IANA name" in page.get_data(as_text=True)
    assert len(recorded_events(USER_PROFILE_CHANGED)) == 1
