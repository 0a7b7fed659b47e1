"""Security headers on every page, cookies, proxies, avatars without addresses, and "last seen"."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from social.dbtypes import utcnow
from social.extensions import db
from social.follows import follow
from social.settings import SocialSettings

from tests.support.social_app import api_token, bearer, build_app, log_in, make_user, recorded_events

PAGES = ["/", "/auth/login", "/auth/register", "/user/susan", "/reset_password_request", "/api/users/susan",
         "/nowhere"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    make_user("susan")
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # http: no promise of https


def test_pages_hold_no_inline_script_or_style(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    for path in ("/", "/user/susan", "/settings/profile", "/settings/notifications", "/settings/email",
                 "/settings/password", "/settings/delete", "/settings/sessions", "/explore", "/people?q=s",
                 "/user/susan/followers", "/user/susan/following", "/nowhere"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", page), path
    for asset in ("social.css", "social.js", "favicon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_cookies_are_secure_when_the_site_is_https_or_the_setting_says_so(tmp_path: Path) -> None:
    def secure(**settings: object) -> bool:
        base = SocialSettings(database_url=f"sqlite:///{tmp_path / 'c.db'}", secret_key="x",  # type: ignore[arg-type]
                              **settings)
        from social.app import create_app
        return bool(create_app(base).config["SESSION_COOKIE_SECURE"])

    assert secure(social_base_url="https://social.example") is True
    assert secure() is False
    assert secure(session_cookie_secure=True) is True


def test_the_site_served_over_https_sends_hsts(tmp_path: Path) -> None:
    from social.app import create_app

    app = create_app(SocialSettings(database_url=f"sqlite:///{tmp_path / 's.db'}", secret_key="x",  # type: ignore[call-arg]
                                    social_base_url="https://social.example"), TESTING=True)
    assert "max-age=" in app.test_client().get("/healthz").headers["Strict-Transport-Security"]


def test_forwarded_addresses_count_only_behind_trusted_proxies(tmp_path: Path) -> None:
    def limited_after(trusted: int) -> int:
        app = build_app(f"sqlite:///{tmp_path / f'p{trusted}.db'}", migrate=False, login_rate_limit="2 per minute",
                        trusted_proxies=trusted)
        client = app.test_client()
        for n in range(3):
            status = client.post("/api/tokens", headers={"X-Forwarded-For": f"10.9.0.{n}"}).status_code
        return status

    assert limited_after(0) == 429  # a client cannot dodge the limit by claiming addresses
    assert limited_after(1) == 401  # behind one proxy, each forwarded client has its own budget


def test_the_avatar_is_an_identicon_of_the_user_id_never_a_hash_of_the_address(app: Flask, client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    digest = hashlib.md5(b"susan@example.com").hexdigest()  # noqa: S324 - what must appear nowhere
    follow(susan, bob)
    places = [client.get("/user/susan").get_data(as_text=True), client.get("/").get_data(as_text=True),
              client.get("/api/users/susan").get_data(as_text=True),
              recorded_events("user.followed")[-1].to_json_bytes().decode()]
    assert not any(digest in place or "gravatar" in place for place in places)
    assert client.get("/api/users/susan").get_json()["avatar_url"] == f"http://social.test/avatar/{susan.id}.png?s=128"
    picture = client.get(f"/avatar/{susan.id}.png?s=64")
    assert (picture.status_code, picture.mimetype) == (200, "image/png")
    assert picture.data.startswith(b"\x89PNG") and picture.data == client.get(f"/avatar/{susan.id}.png?s=64").data
    assert picture.data != client.get(f"/avatar/{bob.id}.png?s=64").data


def test_last_seen_is_shown_to_the_minute_and_hidden_when_the_user_says_so(app: Flask, client: FlaskClient) -> None:
    user = make_user("susan", last_seen=utcnow().replace(second=37, microsecond=123456))
    body = client.get("/api/users/susan").get_json()
    assert body["last_seen"].endswith(":00Z") or ":00+" in body["last_seen"] or body["last_seen"][17:19] == "00"
    page = client.get("/user/susan").get_data(as_text=True)
    assert "Last seen" in page and ".123456" not in page and ":37" not in page
    log_in(client, "susan")
    client.post("/settings/profile", data={"about_me": "", "locale": "en", "time_zone": "UTC"})  # the box unticked
    assert user.show_last_seen is False
    assert "(only you see this)" in client.get("/user/susan").get_data(as_text=True)
    assert client.get("/api/users/me", headers=bearer(api_token(client, "susan"))).get_json()["last_seen"]
    client.post("/auth/logout")
    assert client.get("/api/users/susan").get_json()["last_seen"] is None
    assert "Last seen" not in client.get("/user/susan").get_data(as_text=True)


def test_last_seen_is_written_at_most_once_a_minute(app: Flask, client: FlaskClient) -> None:
    user = make_user("susan", last_seen=utcnow() - timedelta(hours=1))
    log_in(client, "susan")
    client.get("/")
    assert user.last_seen.second == 0 and user.last_seen.microsecond == 0
    assert utcnow() - user.last_seen < timedelta(minutes=1)


def test_the_database_file_and_the_secret_key_file_are_readable_by_their_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from social.app import create_app

    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        app = create_app(SocialSettings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}"))  # type: ignore[call-arg]
        with app.app_context():
            db.create_all()
    finally:
        os.umask(old)
    for path in (tmp_path / "fresh.db", tmp_path / "var" / "social-secret-key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
