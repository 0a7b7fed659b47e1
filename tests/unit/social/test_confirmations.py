"""Confirming an address: the link mailed at sign-up, its page, its API, and when it stops working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskClient
from microblog_contracts import EMAIL_CONFIRMATION_REQUESTED, USER_PROFILE_CHANGED
from social.cli import main as social_cli
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.tokens import MailToken
from social.models import User
from sqlalchemy import select, update

from tests.support.social_app import BASE_URL, PASSWORD, build_app, mailed_token, recorded_events

SIGN_UP = {"nickname": "susan", "email": "Susan@Example.com", "password": PASSWORD}


def sign_up(client: FlaskClient) -> User:
    assert client.post("/api/users", json=SIGN_UP).status_code == 202
    return db.session.scalars(select(User)).one()


def confirm_token() -> str:
    return mailed_token(EMAIL_CONFIRMATION_REQUESTED, "confirm_url")


def susan() -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.nickname == "susan")).one()


def test_signing_up_records_the_first_profile_and_a_link_to_confirm_the_address(client: FlaskClient) -> None:
    before = utcnow()
    user = sign_up(client)
    profile_changed, asked = recorded_events()
    assert profile_changed.type == USER_PROFILE_CHANGED
    assert profile_changed.data.profile.version == 1
    assert profile_changed.data.profile.email_confirmed_at is None
    assert asked.type == EMAIL_CONFIRMATION_REQUESTED
    assert (asked.data.purpose, asked.data.address) == ("signup", "susan@example.com")
    assert str(asked.data.confirm_url).startswith(f"{BASE_URL}/confirm/")
    assert before + timedelta(days=7) <= asked.data.expires_at <= utcnow() + timedelta(days=7)
    assert not user.email_confirmed


def test_signing_up_on_the_page_asks_for_the_same_confirmation(client: FlaskClient) -> None:
    page = client.post("/auth/register", data={**SIGN_UP, "password2": PASSWORD, "locale": "en"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Welcome, susan!" in page
    assert "susan@example.com" in page
    assert [e.type for e in recorded_events()] == [USER_PROFILE_CHANGED, EMAIL_CONFIRMATION_REQUESTED]


def test_only_the_hash_of_a_link_token_is_stored(client: FlaskClient) -> None:
    sign_up(client)
    token = confirm_token()
    row = db.session.scalars(select(MailToken)).one()
    assert row.token_hash == MailToken.hash(token)
    assert token not in row.token_hash


def test_the_page_a_link_opens_changes_nothing_so_mail_scanners_confirm_nothing(client: FlaskClient) -> None:
    sign_up(client)
    token = confirm_token()
    for _ in range(3):
        page = client.get(f"/confirm/{token}")
        assert page.status_code == 200
        assert "Confirm susan@example.com" in page.get_data(as_text=True)
    assert not susan().email_confirmed
    assert db.session.scalars(select(MailToken)).one().used_at is None
    assert len(recorded_events()) == 2


def test_the_confirm_button_confirms_the_address_and_tells_the_notifier_with_a_newer_profile(
    client: FlaskClient,
) -> None:
    sign_up(client)
    response = client.post(f"/confirm/{confirm_token()}", follow_redirects=True)
    assert "susan@example.com is confirmed" in response.get_data(as_text=True)
    assert susan().email_confirmed
    latest = recorded_events(USER_PROFILE_CHANGED)[-1]
    assert latest.data.profile.version == 2
    assert latest.data.profile.email_confirmed_at == susan().email_confirmed_at


def test_a_link_works_once(client: FlaskClient) -> None:
    sign_up(client)
    token = confirm_token()
    assert client.post("/api/email-confirmations", json={"token": token}).status_code == 204
    again = client.post("/api/email-confirmations", json={"token": token})
    assert (again.status_code, again.get_json()["error"]) == (410, "link_used")
    assert client.post(f"/confirm/{token}").status_code == 410
    assert client.get(f"/confirm/{token}").status_code == 410
    assert len(recorded_events(USER_PROFILE_CHANGED)) == 2


def test_a_link_is_good_for_seven_days_and_not_after(client: FlaskClient) -> None:
    sign_up(client)
    token = confirm_token()
    row = db.session.scalars(select(MailToken)).one()
    assert row.expires_at - row.created_at == timedelta(days=7)
    db.session.execute(update(MailToken).values(created_at=utcnow() - timedelta(days=7, seconds=1),
                                                expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(f"/confirm/{token}").status_code == 410
    response = client.post("/api/email-confirmations", json={"token": token})
    assert (response.status_code, response.get_json()["error"]) == (410, "link_expired")
    assert not susan().email_confirmed


def test_a_link_dies_when_the_address_changes(client: FlaskClient) -> None:
    sign_up(client)
    old_token = confirm_token()
    token = client.post("/api/tokens", headers=_basic()).get_json()["token"]
    changed = client.put("/api/users/me/email", json={"email": "new@example.com", "password": PASSWORD},
                         headers={"Authorization": f"Bearer {token}"})
    assert changed.status_code == 202
    response = client.post("/api/email-confirmations", json={"token": old_token})
    assert (response.status_code, response.get_json()["error"]) == (410, "link_dead")
    assert client.post("/api/email-confirmations", json={"token": confirm_token()}).status_code == 204
    assert (susan().email, susan().email_confirmed) == ("new@example.com", True)


@pytest.mark.parametrize("token", ["nope", "x" * 300, "%00"])
def test_an_unknown_link_is_a_404_and_changes_nothing(client: FlaskClient, token: str) -> None:
    sign_up(client)
    assert client.get(f"/confirm/{token}").status_code == 404
    assert client.post(f"/confirm/{token}").status_code == 404
    response = client.post("/api/email-confirmations", json={"token": token})
    assert (response.status_code, response.get_json()["error"]) == (
        (404, "not_found") if len(token) <= 200 else (422, "invalid_fields"))
    assert not susan().email_confirmed


def test_the_confirm_button_needs_its_csrf_token(tmp_path: object) -> None:
    app = build_app(f"sqlite:///{tmp_path}/csrf.db", migrate=False, WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        sign_up(client)
        response = client.post(f"/confirm/{confirm_token()}", follow_redirects=True)
        assert response.status_code == 200  # the page again, to press once more; never a bare 400
        assert "Please try again: the page was open too long." in response.get_data(as_text=True)
        assert not susan().email_confirmed


def test_a_logged_in_user_can_ask_for_a_new_link_within_the_rate_limit(tmp_path: object) -> None:
    app = build_app(f"sqlite:///{tmp_path}/rl.db", migrate=False, confirmation_rate_limit="3 per hour")
    with app.app_context():
        client = app.test_client()
        sign_up(client)
        headers = _bearer(client)
        assert [client.post("/api/users/me/email-confirmations", headers=headers).status_code
                for _ in range(3)] == [202, 202, 429]  # the sign-up's link counts too
        refused = client.post("/api/users/me/email-confirmations", headers=headers)
        assert 3000 < int(refused.headers["Retry-After"]) <= 3600
        asked = recorded_events(EMAIL_CONFIRMATION_REQUESTED)
        assert [e.data.purpose for e in asked] == ["signup", "again", "again"]


def test_the_page_button_asks_for_a_new_link(client: FlaskClient) -> None:
    sign_up(client)
    client.post("/auth/login", data={"nickname": "susan", "password": PASSWORD})
    page = client.post("/settings/email/confirmation", follow_redirects=True).get_data(as_text=True)
    assert "We sent a new link to susan@example.com" in page
    assert recorded_events(EMAIL_CONFIRMATION_REQUESTED)[-1].data.purpose == "again"


def test_a_confirmed_address_whose_mail_works_needs_no_new_link(client: FlaskClient) -> None:
    sign_up(client)
    client.post("/api/email-confirmations", json={"token": confirm_token()})
    response = client.post("/api/users/me/email-confirmations", headers=_bearer(client))
    assert (response.status_code, response.get_json()["error"]) == (409, "already_confirmed")


def test_an_operator_confirms_an_address_from_the_command_line(app: Flask) -> None:
    app.test_client().post("/api/users", json=SIGN_UP)
    result = CliRunner().invoke(social_cli, ["users", "confirm", "SUSAN"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "confirmed susan's address susan@example.com" in result.output
    assert susan().email_confirmed
    assert recorded_events(USER_PROFILE_CHANGED)[-1].data.profile.confirmed
    again = CliRunner().invoke(social_cli, ["users", "confirm", "susan"], obj=ScriptInfo(create_app=lambda: app))
    assert "confirmed already" in again.output
    unknown = CliRunner().invoke(social_cli, ["users", "confirm", "nobody"], obj=ScriptInfo(create_app=lambda: app))
    assert unknown.exit_code == 1


def _basic() -> dict[str, str]:
    from tests.support.social_app import basic_auth

    return basic_auth("susan")


def _bearer(client: FlaskClient) -> dict[str, str]:
    token = client.post("/api/tokens", headers=_basic()).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}
