"""Password checks are limited per client and, when they fail, per account; the page login and
`POST /api/tokens` draw on the same budgets, counted in the database every worker shares."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from social.extensions import db
from social.limitstore import rate_limits
from sqlalchemy import func, select

from tests.support.social_app import PASSWORD, basic_auth, build_app, make_user


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False, login_rate_limit="5 per minute",
                    login_account_rate_limit="3 per hour")
    with app.app_context():
        make_user("susan")
        make_user("bob")
    return app


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def page_login(client: FlaskClient, nickname: str, password: str) -> int:
    status: int = client.post("/auth/login", data={"nickname": nickname, "password": password}).status_code
    return status


def test_failed_logins_from_many_clients_exhaust_the_account_s_budget(app: Flask) -> None:
    for n in range(3):
        assert page_login(from_address(app, f"10.0.0.{n}"), "susan", "wrong password") == 200
    assert page_login(from_address(app, "10.0.0.9"), "susan", PASSWORD) == 429
    assert page_login(from_address(app, "10.0.0.9"), "bob", PASSWORD) == 302


def test_the_token_endpoint_draws_on_the_same_account_budget(app: Flask) -> None:
    for n in range(2):
        page_login(from_address(app, f"10.0.1.{n}"), "SUSAN", "wrong password")
    client = from_address(app, "10.0.1.7")
    assert client.post("/api/tokens", headers=basic_auth("susan", "wrong password")).status_code == 401
    assert client.post("/api/tokens", headers=basic_auth("susan")).status_code == 429


def test_successful_logins_do_not_count_against_the_account(app: Flask) -> None:
    for n in range(4):
        assert page_login(from_address(app, f"10.0.2.{n}"), "susan", PASSWORD) == 302


def test_the_page_and_the_token_endpoint_share_one_budget_per_client(app: Flask) -> None:
    client = from_address(app, "10.0.3.1")
    for _ in range(3):
        assert client.post("/api/tokens", headers=basic_auth("bob")).status_code == 200
    for _ in range(2):
        assert page_login(client, "bob", PASSWORD) == 302
        client.post("/auth/logout")
    response = client.post("/api/tokens", headers=basic_auth("bob"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_the_counts_are_kept_in_the_database_not_in_the_process(app: Flask) -> None:
    page_login(from_address(app, "10.0.4.1"), "susan", "wrong password")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(rate_limits)) >= 2
