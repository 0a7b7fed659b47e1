"""Login sessions end for good: logging out, changing the password, logging out everywhere and a
password reset each end what they should, cookies copied before included."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from social.dbtypes import utcnow
from social.extensions import db
from social.sessions import UserSession
from sqlalchemy import func, select

from tests.support.social_app import PASSWORD, api_token, bearer, build_app, log_in
from tests.support.social_app import mailed_token as mailed
from tests.support.social_app import make_user as make


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The app with no app context held across requests: each request loads its user afresh, as
    in production (a shared context would keep the first request's user for the whole test)."""
    return build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def make_user(app: Flask, nickname: str) -> None:
    with app.app_context():
        make(nickname)


def mailed_token(app: Flask, event_type: str, url_field: str) -> str:
    with app.app_context():
        return mailed(event_type, url_field)

NEW_PASSWORD = "a much longer new secret"


def logged_in(client: FlaskClient) -> bool:
    return client.get("/settings/profile").status_code == 200


def cookies(client: FlaskClient) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client._cookies.values()}  # type: ignore[attr-defined]


def with_cookies(app: Flask, saved: dict[str, str]) -> FlaskClient:
    """A second browser holding copies of the cookies another one had."""
    other = app.test_client()
    for name, value in saved.items():
        other.set_cookie(name, value)
    return other


def log_in_remembered(client: FlaskClient, nickname: str = "susan") -> None:
    response = client.post("/auth/login", data={"nickname": nickname, "password": PASSWORD, "remember_me": "y"})
    assert response.status_code == 302


def test_logging_out_ends_that_session_for_good_even_for_a_copy_of_its_cookie(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    log_in(client, "susan")
    copied = cookies(client)
    client.post("/auth/logout")
    assert not logged_in(client)
    assert not logged_in(with_cookies(app, copied))


def test_logging_out_ends_the_remember_cookie_too(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    log_in_remembered(client)
    remember = {"remember_token": cookies(client)["remember_token"]}
    assert logged_in(with_cookies(app, remember))  # the remember cookie alone logs in...
    client.post("/auth/logout")
    assert not logged_in(with_cookies(app, remember))  # ...until its session is ended


def test_the_remember_cookie_differs_at_every_login(app: Flask) -> None:
    make_user(app, "susan")
    first, second = app.test_client(), app.test_client()
    log_in_remembered(first)
    log_in_remembered(second)
    assert cookies(first)["remember_token"] != cookies(second)["remember_token"]


def test_logging_out_one_browser_leaves_the_others_logged_in(app: Flask) -> None:
    make_user(app, "susan")
    phone, laptop = app.test_client(), app.test_client()
    log_in(phone, "susan")
    log_in(laptop, "susan")
    phone.post("/auth/logout")
    assert logged_in(laptop)


def test_a_cookie_holding_a_user_id_as_before_logs_nobody_in(app: Flask) -> None:
    make_user(app, "susan")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True
    assert not logged_in(browser)


def test_changing_the_password_ends_every_other_session_and_api_token_and_keeps_this_browser(app: Flask) -> None:
    make_user(app, "susan")
    here, elsewhere = app.test_client(), app.test_client()
    log_in(here, "susan")
    log_in(elsewhere, "susan")
    token = api_token(here, "susan")
    response = here.post("/settings/password", data={
        "password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert logged_in(here)
    assert not logged_in(elsewhere)
    assert here.get("/api/users/me", headers=bearer(token)).status_code == 401
    assert app.test_client().post("/auth/login", data={"nickname": "susan", "password": PASSWORD}).status_code == 200
    log_in(app.test_client(), "susan", NEW_PASSWORD)


def test_changing_the_password_on_the_page_needs_the_old_one_and_refuses_a_common_new_one(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app, "susan")
    log_in(client, "susan")
    page = client.post("/settings/password", data={
        "password": "not it at all", "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "That is not your password." in page.get_data(as_text=True)
    page = client.post("/settings/password", data={
        "password": PASSWORD, "new_password": "password1", "new_password2": "password1"})
    assert "most common" in page.get_data(as_text=True)
    log_in(client, "susan")


def test_the_api_changes_the_password_and_revokes_every_token_and_session(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    browser = app.test_client()
    log_in(browser, "susan")
    token, other = api_token(client, "susan"), api_token(client, "susan")
    response = client.put("/api/users/me/password", headers=bearer(token),
                          json={"password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    for stale in (token, other):
        assert client.get("/api/users/me", headers=bearer(stale)).status_code == 401
    assert not logged_in(browser)
    api_token(client, "susan", NEW_PASSWORD)


def test_the_api_refuses_a_wrong_old_password_and_names_a_bad_new_one(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    token = api_token(client, "susan")
    wrong = client.put("/api/users/me/password", headers=bearer(token),
                       json={"password": "not it at all", "new_password": NEW_PASSWORD})
    assert (wrong.status_code, wrong.get_json()["fields"]) == (403, {"password": "wrong password"})
    common = client.put("/api/users/me/password", headers=bearer(token),
                        json={"password": PASSWORD, "new_password": "iloveyou2"})
    assert common.status_code == 422
    assert "most common" in common.get_json()["fields"]["new_password"]
    same = client.put("/api/users/me/password", headers=bearer(token),
                      json={"password": PASSWORD, "new_password": "SUSAN@example.com"})
    assert same.status_code == 422
    assert "nickname or your e-mail" in same.get_json()["fields"]["new_password"]


def test_logging_out_everywhere_on_the_page_ends_every_session_and_token(app: Flask) -> None:
    make_user(app, "susan")
    here, elsewhere = app.test_client(), app.test_client()
    log_in(here, "susan")
    log_in(elsewhere, "susan")
    token = api_token(here, "susan")
    assert here.post("/settings/sessions/revoke").status_code == 302
    assert not logged_in(here)
    assert not logged_in(elsewhere)
    assert here.get("/api/users/me", headers=bearer(token)).status_code == 401
    log_in(here, "susan")  # the password still works


def test_logging_out_everywhere_through_the_api_ends_every_session_and_token(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    browser = app.test_client()
    log_in(browser, "susan")
    token = api_token(client, "susan")
    assert client.post("/api/users/me/sessions/revoke", headers=bearer(token)).status_code == 204
    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401
    assert not logged_in(browser)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_a_password_reset_ends_every_session_and_api_token(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    browser = app.test_client()
    log_in(browser, "susan")
    token = api_token(client, "susan")
    client.post("/api/password-resets", json={"email": "susan@example.com"})
    reset = client.post(f"/api/password-resets/{mailed_token(app, 'password.reset_requested', 'reset_url')}",
                        json={"password": NEW_PASSWORD})
    assert reset.status_code == 204
    assert not logged_in(browser)
    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401


def test_a_reset_refuses_a_common_password_and_the_link_still_works(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    client.post("/api/password-resets", json={"email": "susan@example.com"})
    token = mailed_token(app, "password.reset_requested", "reset_url")
    refused = client.post(f"/api/password-resets/{token}", json={"password": "qwertyuiop"})
    assert refused.status_code == 422
    assert "password" in refused.get_json()["fields"]
    assert client.post(f"/api/password-resets/{token}", json={"password": NEW_PASSWORD}).status_code == 204


def test_sessions_end_after_their_lifetime(app: Flask, client: FlaskClient) -> None:
    make_user(app, "susan")
    log_in(client, "susan")
    with app.app_context():
        db.session.execute(UserSession.__table__.update().values(expires_at=utcnow()))
        db.session.commit()
    assert not logged_in(client)
