"""Issue 14's pages: finding people, posts and timelines, the follow that survives a lost login,
forms whose token expired, and the bugs seen (plurals, line breaks, raw UTC times)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import itsdangerous
import pytest
from flask import Flask
from flask.testing import FlaskClient
from social import people, posts
from social.dbtypes import utcnow
from social.extensions import db
from social.models import Follow
from social.outbox.models import OutboxEvent
from sqlalchemy import select

from tests.support.social_app import PASSWORD, build_app, log_in, make_user


def text(client: FlaskClient, url: str, **kwargs: object) -> str:
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def csrf_token(page: str) -> str:
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no token on the page"
    return found[1]


# Finding people

def test_search_finds_a_nickname_by_its_start_whatever_its_case_or_width(client: FlaskClient) -> None:
    for name in ("susan", "Sam", "bob", "a_b", "axb"):
        make_user(name)
    page = text(client, "/people", query_string={"q": "ＳＵ"})  # fullwidth, upper case
    assert 'href="/user/susan"' in page and 'href="/user/Sam"' not in page and 'href="/user/bob"' not in page
    assert 'href="/user/Sam"' in text(client, "/people", query_string={"q": "s"})
    underscore = text(client, "/people", query_string={"q": "a_"})
    assert 'href="/user/a_b"' in underscore and 'href="/user/axb"' not in underscore  # `_` is no wildcard


def test_a_search_with_a_control_character_finds_nobody_and_sends_the_database_nothing_it_refuses() -> None:
    # PostgreSQL refuses a NUL in any text (schemathesis found `GET /api/users?q=%00` answering 500).
    assert people.search_keys("su\x00") == ()
    assert people.search_keys("\u200bsu") == ()
    assert people.search_keys("ＳＵ")[0] == "su"


def test_everyone_can_be_reached_from_the_people_page_however_many_sign_up(client: FlaskClient) -> None:
    for n in range(45):
        make_user(f"member{n:02}")
    seen: set[str] = set()
    url: str | None = "/people"
    while url:
        page = text(client, url)
        seen |= set(re.findall(r'class="nickname" href="/user/(member\d+)"', page))
        more = re.search(r'class="older" href="([^"]+)"', page)
        url = more[1].replace("&amp;", "&") if more else None
    assert len(seen) == 45  # the first members too, not only the 20 newest


def test_a_search_pages_through_every_match(client: FlaskClient) -> None:
    for n in range(25):
        make_user(f"fan{n:02}")
    first = text(client, "/people?q=fan")
    assert first.count('class="nickname"') == 20
    more = re.search(r'class="older" href="([^"]+)"', first)
    assert more and text(client, more[1].replace("&amp;", "&")).count('class="nickname"') == 5


def test_the_api_finds_people_and_says_whom_someone_follows(client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    bob.follow(susan)
    db.session.commit()
    found = client.get("/api/users", query_string={"q": "ＳＵ"}).get_json()
    assert [user["nickname"] for user in found["items"]] == ["susan"]
    assert [u["nickname"] for u in client.get("/api/users").get_json()["items"]] == ["bob", "susan"]
    following = client.get("/api/users/BOB/following").get_json()
    assert (following["total"], following["items"][0]["nickname"]) == (1, "susan")
    assert client.get("/api/users/nobody/following").status_code == 404


@pytest.mark.parametrize("nickname", ["me", "api", "edit_profile", "ME", "settings"])
def test_nicknames_that_are_the_sites_own_words_are_refused(client: FlaskClient, nickname: str) -> None:
    response = client.post("/api/users", json={"nickname": nickname, "email": "x@example.com", "password": PASSWORD})
    assert response.status_code == 422, response.get_json()
    page = client.post("/auth/register", data={"nickname": nickname, "email": "x@example.com", "password": PASSWORD,
                                               "password2": PASSWORD, "locale": "en"}).get_data(as_text=True)
    assert "reserved" in page


# Posts and timelines

def test_a_post_shows_on_the_authors_profile_their_followers_home_and_explore_but_sends_no_mail(
        client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    make_user("carol")
    bob.follow(susan)
    db.session.commit()
    before = db.session.scalars(select(OutboxEvent)).all()
    log_in(client, "susan")
    response = client.post("/post", data={"post": "  Tea time.\nWith biscuits.  "}, follow_redirects=True)
    assert "Your post is live." in response.get_data(as_text=True)
    assert db.session.scalars(select(OutboxEvent)).all() == before  # posts are social's alone
    assert "Tea time.\nWith biscuits." in text(client, "/user/susan")
    client.post("/auth/logout")
    assert "Tea time." in text(client, "/explore")
    log_in(client, "bob")
    assert "Tea time." in text(client, "/")
    client.post("/auth/logout")
    log_in(client, "carol")
    assert "Tea time." not in text(client, "/")  # carol follows nobody


def test_a_post_has_at_most_280_characters_and_something_in_it(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    too_long = client.post("/post", data={"post": "x" * 281})
    assert too_long.status_code == 422 and "at most 280 characters" in too_long.get_data(as_text=True)
    assert client.post("/post", data={"post": "   "}).status_code == 422
    assert client.post("/post", data={"post": "字" * 280}).status_code == 302
    assert db.session.scalars(select(posts.Post)).one().body == "字" * 280


def test_a_new_post_does_not_shift_the_page_being_read(client: FlaskClient) -> None:
    susan = make_user("susan")
    start = utcnow() - timedelta(hours=1)
    for n in range(45):
        posts.write_post(susan, f"post number {n:02}", now=start + timedelta(seconds=n))
    first = text(client, "/explore")
    older = re.search(r'class="older" href="([^"]+)"', first)
    assert older
    posts.write_post(susan, "a brand new post")  # written while page 1 is read
    second = text(client, older[1].replace("&amp;", "&"))
    numbers = re.findall(r"post number (\d+)", second)
    assert numbers == [f"{n:02}" for n in range(24, 4, -1)]  # the next 20, none seen twice


def test_the_timelines_in_the_api_page_by_cursor(client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    db.session.add(Follow(follower_id=bob.id, followed_id=susan.id))
    db.session.commit()
    token = client.post("/api/tokens", auth=("susan", PASSWORD)).get_json()["token"]
    bob_token = client.post("/api/tokens", auth=("bob", PASSWORD)).get_json()["token"]
    for n in range(3):
        created = client.post("/api/posts", json={"body": f"hello {n}"}, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201
    assert client.post("/api/posts", json={"body": "x" * 281}, headers={"Authorization": f"Bearer {token}"}
                       ).status_code == 422
    home = client.get("/api/users/me/timeline?limit=2", headers={"Authorization": f"Bearer {bob_token}"}).get_json()
    assert [p["body"] for p in home["items"]] == ["hello 2", "hello 1"]
    older = client.get(home["links"]["older"], headers={"Authorization": f"Bearer {bob_token}"}).get_json()
    assert [p["body"] for p in older["items"]] == ["hello 0"] and older["links"]["older"] is None
    assert client.get("/api/users/susan/posts").get_json()["items"][0]["body"] == "hello 2"
    assert client.get("/api/posts?before=nonsense").status_code == 422
    assert client.get("/api/users/me/timeline").status_code == 401


# The follow that survives a lost login, and forms whose token expired

def csrf_app(tmp_path: Path) -> Flask:
    """An app with CSRF on, susan (id 1) and bob (id 2). Its requests run outside any app context
    of the test's, as a browser's do: each gets its own `g`."""
    app = build_app(f"sqlite:///{tmp_path / 'csrf.db'}", migrate=False, WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("susan")
        make_user("bob")
    return app


def follows(app: Flask) -> bool:
    with app.app_context():
        return db.session.get(Follow, (1, 2)) is not None


def test_a_follow_pressed_after_the_login_ended_is_done_once_logged_in_again(tmp_path: Path) -> None:
    app = csrf_app(tmp_path)
    client = app.test_client()
    log_in_with_token(client, "susan")
    token = csrf_token(text(client, "/user/bob"))
    with app.app_context():
        db.session.execute(db.text("DELETE FROM user_sessions"))  # the login ends (expired, or elsewhere)
        db.session.commit()
    pressed = client.post("/follow/bob", data={"csrf_token": token})
    assert pressed.status_code == 302 and pressed.location.startswith("/auth/login?next=/user/bob")
    login_page = text(client, pressed.location)
    assert "Log in, and you will follow bob right away." in login_page
    back = client.post(pressed.location, data={"csrf_token": csrf_token(login_page), "nickname": "susan",
                                               "password": PASSWORD})
    assert back.location == "/user/bob"  # not the follow URL, which answers only POST (the 405)
    assert "You are now following bob." in text(client, back.location)
    assert follows(app)


def test_a_follow_from_a_browser_that_lost_its_session_returns_to_the_profile_with_one_line(
        tmp_path: Path) -> None:
    app = csrf_app(tmp_path)
    client = app.test_client()
    log_in_with_token(client, "susan")
    token = csrf_token(text(client, "/user/bob"))
    stranger = app.test_client()  # no cookie at all: the token cannot be checked, so nothing is done
    pressed = stranger.post("/follow/bob", data={"csrf_token": token}, headers={"Referer": "http://localhost/user/bob"})
    assert pressed.status_code == 302 and pressed.location.startswith("/auth/login?next=/user/bob")
    assert "Your login has ended: please log in, then try again." in text(stranger, pressed.location)
    assert not follows(app)


def test_a_follow_whose_form_expired_asks_to_try_again_and_shows_the_profile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = csrf_app(tmp_path)
    client = app.test_client()
    log_in_with_token(client, "susan")
    token = csrf_token(text(client, "/user/bob"))
    two_hours_on = int(time.time()) + 7200  # the page is left open; its token lives an hour
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: two_hours_on)
    response = client.post("/follow/bob", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == "/user/bob"  # never a bare 400
    assert "Please try again: the page was open too long." in text(client, "/user/bob")
    assert not follows(app)
    page = client.post("/settings/profile", data={"csrf_token": token, "about_me": "kept", "locale": "en",
                                                  "time_zone": "UTC"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "please try again" in body and "kept</textarea>" in body
    assert csrf_token(body) != token


def test_a_follow_by_the_script_whose_token_expired_answers_a_fresh_token_that_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = csrf_app(tmp_path)
    client = app.test_client()
    log_in_with_token(client, "susan")
    stale = csrf_token(text(client, "/user/bob"))
    two_hours_on = int(time.time()) + 7200
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: two_hours_on)
    pressed = client.post("/follow/bob", data={"csrf_token": stale}, headers={"Accept": "application/json"})
    answer = pressed.get_json()
    assert pressed.status_code == 409 and not answer["following"] and "Please try again" in answer["message"]
    assert not follows(app)
    again = client.post("/follow/bob", data={"csrf_token": answer["csrf_token"]},
                        headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.get_json()["following"]
    assert follows(app)


def log_in_with_token(client: FlaskClient, nickname: str) -> None:
    page = text(client, "/auth/login")
    response = client.post("/auth/login", data={"csrf_token": csrf_token(page), "nickname": nickname,
                                                "password": PASSWORD})
    assert response.status_code == 302


def test_follow_and_unfollow_answer_json_for_the_script(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    log_in(client, "susan")
    followed = client.post("/follow/bob", headers={"Accept": "application/json"}).get_json()
    assert (followed["following"], followed["followers"], followed["action"]) == (True, 1, "/unfollow/bob")
    assert followed["followers_html"] == "<strong>1</strong> follower"
    undone = client.post("/unfollow/bob", headers={"Accept": "application/json"}).get_json()
    assert (undone["following"], undone["followers_html"]) == (False, "<strong>0</strong> followers")


# The bugs seen

def test_about_me_keeps_its_line_breaks(client: FlaskClient) -> None:
    make_user("susan", about_me="First line\nSecond <line>")
    assert "First line<br>Second &lt;line&gt;" in text(client, "/user/susan")


def test_times_are_shown_in_the_viewers_zone_with_a_relative_form(app: Flask, client: FlaskClient) -> None:
    susan = make_user("susan", time_zone="Asia/Tokyo")
    moment = (utcnow() - timedelta(days=1)).replace(hour=3, minute=5, second=0, microsecond=0)
    posts.write_post(susan, "hello", now=moment)
    log_in(client, "susan")
    page = text(client, "/user/susan")
    stamp = moment.strftime("%Y-%m-%dT%H:%MZ")
    found = re.search(rf'<time datetime="{stamp}" title="([^"]+)" data-relative>([^<]+)</time>', page)
    assert found, page
    assert "12:05" in found[1] and "JST" in found[1]  # 03:05 UTC is 12:05 in Tokyo
    assert re.fullmatch(r"\d+ (hours?|days?) ago", found[2]), found[2]
    assert "UTC</time>" not in page


def test_error_pages_are_the_sites_own_in_its_language(client: FlaskClient) -> None:
    page = client.get("/nowhere", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    body = page.get_data(as_text=True)
    assert page.status_code == 404 and '<html lang="zh-CN"' in body and "页面不存在" in body
    assert 'class="site"' in body  # the layout: header and footer
    assert "405" in client.get("/follow/susan").get_data(as_text=True)
