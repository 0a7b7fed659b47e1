"""Resetting a password by mail: the same answer for every address, a link that works once, for an
hour, until the password changes, and the old password and API tokens dead afterwards."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from microblog_contracts import PASSWORD_RESET_REQUESTED, USER_PROFILE_CHANGED
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.tokens import MailToken
from social.models import User
from sqlalchemy import select, update

from tests.support.social_app import (
    BASE_URL,
    api_token,
    basic_auth,
    bearer,
    build_app,
    log_in,
    mailed_token,
    make_user,
    recorded_events,
)

NEW_PASSWORD = "a brand new password"


def ask(client: FlaskClient, email: str) -> tuple[int, object]:
    response = client.post("/api/password-resets", json={"email": email})
    return response.status_code, response.get_json()


def reset_token() -> str:
    return mailed_token(PASSWORD_RESET_REQUESTED, "reset_url")


def reset(client: FlaskClient, token: str, password: str = NEW_PASSWORD) -> int:
    return client.post(f"/api/password-resets/{token}", json={"password": password}).status_code


def test_asking_answers_the_same_for_an_account_and_for_an_unknown_address(client: FlaskClient) -> None:
    make_user("susan")
    known = ask(client, "Susan@example.com")
    unknown = ask(client, "nobody@example.com")
    assert known == unknown
    assert known[0] == 202
    [event] = recorded_events(PASSWORD_RESET_REQUESTED)
    assert event.data.profile.email == "susan@example.com"
    assert str(event.data.reset_url).startswith(f"{BASE_URL}/reset_password/")
    assert utcnow() + timedelta(minutes=59) < event.data.expires_at <= utcnow() + timedelta(hours=1)


def test_the_page_answers_the_same_for_an_account_and_for_an_unknown_address(client: FlaskClient) -> None:
    make_user("susan")
    pages = [client.post("/reset_password_request", data={"email": email}, follow_redirects=True)
             for email in ("susan@example.com", "nobody@example.com")]
    assert pages[0].get_data() == pages[1].get_data()
    assert "If that address belongs to an account" in pages[0].get_data(as_text=True)
    assert len(recorded_events(PASSWORD_RESET_REQUESTED)) == 1


def test_the_login_page_links_to_the_reset(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<a href="/reset_password_request">Forgot your password?</a>' in page


def test_a_reset_sets_the_password_and_kills_the_old_one_and_every_api_token(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow())
    token = api_token(client, "susan")
    ask(client, "susan@example.com")

    assert reset(client, reset_token()) == 204

    assert client.post("/api/tokens", headers=basic_auth("susan")).status_code == 401
    assert client.post("/api/tokens", headers=basic_auth("susan", NEW_PASSWORD)).status_code == 200
    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401
    user = db.session.scalars(select(User)).one()
    assert user.password_changed_at is not None


def test_a_reset_link_works_once(client: FlaskClient) -> None:
    make_user("susan")
    ask(client, "susan@example.com")
    link = reset_token()
    assert reset(client, link) == 204
    response = client.post(f"/api/password-resets/{link}", json={"password": "yet another password"})
    assert (response.status_code, response.get_json()["error"]) == (410, "link_used")
    assert client.get(f"/reset_password/{link}").status_code == 410


def test_a_reset_link_dies_when_the_password_changes(client: FlaskClient) -> None:
    make_user("susan")
    ask(client, "susan@example.com")
    first = reset_token()
    ask(client, "susan@example.com")
    assert reset(client, reset_token()) == 204
    response = client.post(f"/api/password-resets/{first}", json={"password": "yet another password"})
    assert (response.status_code, response.get_json()["error"]) == (410, "link_dead")


def test_a_reset_link_is_good_for_an_hour_and_not_after(client: FlaskClient) -> None:
    make_user("susan")
    ask(client, "susan@example.com")
    link = reset_token()
    db.session.execute(update(MailToken).values(created_at=utcnow() - timedelta(hours=1, seconds=1),
                                                expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.post(f"/api/password-resets/{link}", json={"password": NEW_PASSWORD})
    assert (response.status_code, response.get_json()["error"]) == (410, "link_expired")
    assert client.post("/api/tokens", headers=basic_auth("susan")).status_code == 200


def test_an_unknown_reset_link_is_a_404(client: FlaskClient) -> None:
    make_user("susan")
    assert reset(client, "made-up") == 404
    assert client.get("/reset_password/made-up").status_code == 404


def test_the_reset_page_shows_a_form_and_sets_the_password(client: FlaskClient) -> None:
    make_user("susan")
    ask(client, "susan@example.com")
    link = reset_token()
    form = client.get(f"/reset_password/{link}")
    assert form.status_code == 200
    assert "Set a new password" in form.get_data(as_text=True)
    assert db.session.scalars(select(MailToken)).one().used_at is None  # showing it used nothing
    done = client.post(f"/reset_password/{link}", data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD},
                       follow_redirects=True)
    assert "Your password has been reset" in done.get_data(as_text=True)
    log_in(client, "susan", NEW_PASSWORD)


def test_a_reset_ends_the_sessions_made_with_the_old_password(tmp_path: object) -> None:
    # Requests here run without an app context of the test's: one would keep the logged-in user in `g`.
    app = build_app(f"sqlite:///{tmp_path}/sessions.db", migrate=False)
    with app.app_context():
        make_user("susan")
    browser, other = app.test_client(), app.test_client()
    log_in(browser, "susan")
    assert browser.get("/settings/notifications").status_code == 200
    ask(other, "susan@example.com")
    with app.app_context():
        link = reset_token()
    assert reset(other, link) == 204
    assert browser.get("/settings/notifications").location.startswith("/auth/login")


def test_using_a_reset_link_confirms_the_address_it_went_to(client: FlaskClient) -> None:
    make_user("susan", profile_version=1)
    ask(client, "susan@example.com")
    reset(client, reset_token())
    profile = recorded_events(USER_PROFILE_CHANGED)[-1].data.profile
    assert (profile.confirmed, profile.version) == (True, 2)


def test_asking_is_rate_limited_per_address_and_per_client(tmp_path: object) -> None:
    app = build_app(f"sqlite:///{tmp_path}/rl.db", migrate=False, password_reset_address_rate_limit="2 per hour",
                    password_reset_rate_limit="5 per hour")
    with app.app_context():
        client = app.test_client()
        make_user("susan")
        assert [ask(client, "susan@example.com")[0] for _ in range(3)] == [202, 202, 429]
        assert [ask(client, "nobody@example.com")[0] for _ in range(3)] == [202, 202, 429]  # the same for anyone
        assert client.post("/reset_password_request", data={"email": "other@example.com"}).status_code == 302
        assert ask(client, "fourth@example.com")[0] == 429  # the client's own limit: 5 an hour
        assert len(recorded_events(PASSWORD_RESET_REQUESTED)) == 2


def test_passwords_are_checked_as_at_sign_up(client: FlaskClient) -> None:
    make_user("susan")
    ask(client, "susan@example.com")
    response = client.post(f"/api/password-resets/{reset_token()}", json={"password": "short"})
    assert (response.status_code, list(response.get_json()["fields"])) == (422, ["password"])
