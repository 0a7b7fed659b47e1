"""Changing the address: it needs the password, mail keeps going to the confirmed address until
the new one is confirmed, and nothing says whether the new address is another account's."""

from __future__ import annotations

from flask.testing import FlaskClient
from microblog_contracts import EMAIL_CHANGE_REQUESTED, EMAIL_CONFIRMATION_REQUESTED, USER_PROFILE_CHANGED
from social.dbtypes import utcnow
from social.extensions import db
from social.models import User
from sqlalchemy import select

from tests.support.social_app import PASSWORD, api_token, bearer, log_in, mailed_token, make_user, recorded_events


def reload(nickname: str = "susan") -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.nickname == nickname)).one()


def change(client: FlaskClient, token: str, email: str, password: str = PASSWORD) -> tuple[int, dict[str, object]]:
    response = client.put("/api/users/me/email", json={"email": email, "password": password}, headers=bearer(token))
    return response.status_code, response.get_json()


def test_a_confirmed_address_keeps_its_mail_until_the_new_one_is_confirmed(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow(), profile_version=3)
    token = api_token(client, "susan")

    status, body = change(client, token, "New@Example.com")

    assert status == 202
    assert (body["email"], body["pending_email"], body["email_confirmed"]) == (
        "susan@example.com", "new@example.com", True)
    notice = recorded_events(EMAIL_CHANGE_REQUESTED)[-1]
    assert (notice.data.old_address, notice.data.new_address) == ("susan@example.com", "new@example.com")
    asked = recorded_events(EMAIL_CONFIRMATION_REQUESTED)[-1]
    assert (asked.data.address, asked.data.purpose, asked.data.profile.email) == (
        "new@example.com", "change", "susan@example.com")
    assert recorded_events(USER_PROFILE_CHANGED) == []  # the mail still goes where it went

    assert client.post("/api/email-confirmations",
                       json={"token": mailed_token(EMAIL_CONFIRMATION_REQUESTED, "confirm_url")}).status_code == 204
    user = reload()
    assert (user.email, user.pending_email, user.email_confirmed) == ("new@example.com", None, True)
    moved = recorded_events(USER_PROFILE_CHANGED)[-1].data.profile
    assert (moved.email, moved.version) == ("new@example.com", 4)


def test_an_address_never_confirmed_is_replaced_at_once_and_told_nothing(client: FlaskClient) -> None:
    make_user("susan")
    status, body = change(client, api_token(client, "susan"), "new@example.com")
    assert status == 202
    assert (body["email"], body["pending_email"], body["email_confirmed"]) == ("new@example.com", None, False)
    assert recorded_events(EMAIL_CHANGE_REQUESTED) == []
    assert recorded_events(USER_PROFILE_CHANGED)[-1].data.profile.email == "new@example.com"
    assert recorded_events(EMAIL_CONFIRMATION_REQUESTED)[-1].data.address == "new@example.com"


def test_a_change_needs_the_password(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow())
    status, body = change(client, api_token(client, "susan"), "new@example.com", password="wrong password")
    assert (status, body["error"]) == (403, "wrong_password")
    assert reload().pending_email is None
    assert recorded_events() == []


def test_changing_to_another_accounts_address_answers_the_same_and_mails_nobody(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow())
    make_user("bob", email="bob@example.com")
    token = api_token(client, "susan")

    taken_status, taken = change(client, token, "bob@example.com")
    free_status, free = change(client, token, "free@example.com")

    assert taken_status == free_status == 202
    assert set(taken) == set(free)
    assert taken["pending_email"] == "bob@example.com"
    assert [e.data.address for e in recorded_events(EMAIL_CONFIRMATION_REQUESTED)] == ["free@example.com"]
    assert [e.data.new_address for e in recorded_events(EMAIL_CHANGE_REQUESTED)] == [
        "bob@example.com", "free@example.com"]


def test_changing_back_to_the_current_address_drops_the_waiting_change(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow())
    token = api_token(client, "susan")
    change(client, token, "new@example.com")
    link = mailed_token(EMAIL_CONFIRMATION_REQUESTED, "confirm_url")
    status, body = change(client, token, "SUSAN@example.com")
    assert (status, body["pending_email"]) == (200, None)
    assert client.post("/api/email-confirmations", json={"token": link}).status_code == 410


def test_the_page_changes_the_address_with_the_password(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow())
    log_in(client, "susan")
    wrong = client.post("/settings/email", data={"email": "new@example.com", "password": "nope"})
    assert "That is not your password." in wrong.get_data(as_text=True)
    assert reload().pending_email is None
    page = client.post("/settings/email", data={"email": "new@example.com", "password": PASSWORD},
                       follow_redirects=True).get_data(as_text=True)
    assert "We sent a link to new@example.com" in page
    assert "Waiting for you to confirm <strong>new@example.com</strong>" in page
    assert reload().pending_email == "new@example.com"


def test_the_page_refuses_an_address_no_mail_can_reach(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow())
    log_in(client, "susan")
    page = client.post("/settings/email", data={"email": "not an address", "password": PASSWORD})
    assert page.status_code == 200
    assert "An email address must have an @-sign." in page.get_data(as_text=True)
    assert reload().pending_email is None
