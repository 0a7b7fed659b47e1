"""Follows and unfollows are limited per user (FOLLOW_RATE_LIMIT), pages and API together."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.support.social_app import api_token, bearer, build_app, log_in, make_user


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False, follow_rate_limit="4 per minute")
    with app.app_context():
        for name in ("susan", "bob", "ann"):
            make_user(name)
    return app


def test_one_user_s_follows_and_unfollows_stop_at_the_limit_and_say_when_to_retry(app: Flask) -> None:
    client = app.test_client()
    token = bearer(api_token(client, "susan"))
    for _ in range(2):
        assert client.put("/api/users/me/following/bob", headers=token).status_code == 204
        assert client.delete("/api/users/me/following/bob", headers=token).status_code == 204
    refused = client.put("/api/users/me/following/bob", headers=token)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0


def test_the_page_and_the_api_share_one_budget_and_other_users_keep_theirs(app: Flask) -> None:
    api, browser = app.test_client(), app.test_client()
    token = bearer(api_token(api, "susan"))
    log_in(browser, "susan")
    for _ in range(2):
        assert api.put("/api/users/me/following/bob", headers=token).status_code == 204
        assert browser.post("/follow/ann").status_code == 302
    assert browser.post("/unfollow/ann").status_code == 429
    other = bearer(api_token(api, "bob"))
    assert api.put("/api/users/me/following/ann", headers=other).status_code == 204
