"""Registering, logging in and out through the pages."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from social.extensions import db
from social.models import User
from sqlalchemy import select

from tests.support.social_app import PASSWORD, build_app, log_in, make_user

GOOD = {
    "nickname": "Susan",
    "email": "Susan@Example.com",
    "password": PASSWORD,
    "password2": PASSWORD,
    "about_me": "I write.",
    "locale": "zh-CN",
}


def register(client: FlaskClient, **changes: str) -> str:
    response = client.post("/auth/register", data={**GOOD, **changes})
    return response.get_data(as_text=True)


def test_the_register_page_offers_every_field(client: FlaskClient) -> None:
    page = client.get("/auth/register").get_data(as_text=True)
    for name in ("nickname", "email", "password", "password2", "about_me", "locale"):
        assert f'name="{name}"' in page
    assert "简体中文" in page


def test_registering_creates_the_user_and_sends_them_to_log_in(client: FlaskClient) -> None:
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 302
    assert response.location.endswith("/auth/login")
    user = db.session.scalars(select(User)).one()
    assert (user.nickname, user.email, user.about_me, user.locale) == (
        "Susan",
        "susan@example.com",
        "I write.",
        "zh-CN",
    )
    assert user.check_password(PASSWORD)


def test_registering_a_taken_nickname_says_so(client: FlaskClient) -> None:
    register(client)
    page = register(client, nickname="SUSAN", email="other@example.com")
    assert "That nickname is taken" in page
    assert len(db.session.scalars(select(User)).all()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-address"}, "must have an @-sign"),
        ({"nickname": "two words"}, "Use only letters, digits"),
        ({"nickname": "x" * 65}, "64 characters"),
        ({"password2": "something else"}, "The passwords do not match."),
        ({"password": "short", "password2": "short"}, "between 8 and 128"),
        ({"about_me": "x" * 281}, "280 characters"),
        ({"about_me": "bell\x07"}, "control characters"),
        ({"locale": "xx"}, "Not a valid choice"),
        ({"nickname": ""}, "This field is required."),
    ],
)
def test_registering_with_a_bad_field_shows_what_is_wrong(
    client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    page = register(client, **changes)
    assert message in page


def test_a_short_password_is_told_once(client: FlaskClient) -> None:
    page = register(client, password="short", password2="short")
    errors = re.search(r'<ul class="errors" id="password-errors">(.*?)</ul>', page, re.DOTALL)
    assert errors and errors[1].count("<li>") == 1, errors  # not "between 8 and 128" and "at least 8"


def test_logging_in_with_the_right_password_logs_you_in(client: FlaskClient) -> None:
    make_user("susan")
    response = client.post("/auth/login", data={"nickname": "SUSAN", "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Your timeline" in page and '<span class="name">susan</span>' in page


@pytest.mark.parametrize(("nickname", "password"), [("susan", "wrong"), ("nobody", PASSWORD)])
def test_logging_in_with_wrong_credentials_says_so_without_saying_which(
    client: FlaskClient, nickname: str, password: str
) -> None:
    make_user("susan")
    response = client.post("/auth/login", data={"nickname": nickname, "password": password})
    assert response.status_code == 200
    assert "Invalid nickname or password." in response.get_data(as_text=True)


def test_remember_me_sets_a_lasting_http_only_cookie(client: FlaskClient) -> None:
    make_user("susan")
    response = client.post(
        "/auth/login", data={"nickname": "susan", "password": PASSWORD, "remember_me": "y"}
    )
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie


def test_login_honours_a_relative_next(client: FlaskClient) -> None:
    make_user("susan")
    response = client.post(
        "/auth/login?next=/settings/profile", data={"nickname": "susan", "password": PASSWORD}
    )
    assert response.location == "/settings/profile"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_refuses_to_redirect_off_site(client: FlaskClient, target: str) -> None:
    make_user("susan")
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"nickname": "susan", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_a_page_that_needs_login_sends_you_to_log_in_and_back(client: FlaskClient) -> None:
    response = client.get("/settings/profile")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")


def test_logging_out_takes_a_post(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    assert client.get("/auth/logout").status_code == 405
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_logins_are_rate_limited(tmp_path: object) -> None:
    app = build_app(f"sqlite:///{tmp_path}/rl.db", migrate=False, login_rate_limit="3 per minute")
    client = app.test_client()
    statuses = [
        client.post("/auth/login", data={"nickname": "x", "password": "y"}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/auth/login").status_code == 200  # only attempts count


def test_forms_without_a_csrf_token_are_refused_when_csrf_is_on(tmp_path: object) -> None:
    app = build_app(f"sqlite:///{tmp_path}/csrf.db", migrate=False, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/auth/register", data=GOOD)
    # Not a bare 400: the form again, with what was typed, a fresh token and a line to try again.
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This form was open too long, so nothing was sent: please try again." in page
    assert 'name="csrf_token" type="hidden" value="' in page and 'value="Susan"' in page
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_forms_with_their_csrf_token_pass_when_csrf_is_on(tmp_path: object) -> None:
    app = build_app(f"sqlite:///{tmp_path}/csrf.db", migrate=False, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/auth/register").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/auth/register", data={**GOOD, "csrf_token": token})
    assert response.status_code == 302


def test_the_app_fixture_starts_empty(app: Flask) -> None:
    assert db.session.scalars(select(User)).all() == []


def test_an_address_email_validator_refuses_is_explained_in_chinese_on_a_chinese_page(client: FlaskClient) -> None:
    # email-validator's own words ("must have an @-sign", the test above) are in English only.
    chinese = client.post("/auth/register", headers={"Accept-Language": "zh-CN"}, data={
        "nickname": "susan", "email": "not-an-address", "password": PASSWORD, "password2": PASSWORD,
        "locale": "zh-CN"}).get_data(as_text=True)
    assert "这不是我们能发送邮件的地址" in chinese and "@-sign" not in chinese

