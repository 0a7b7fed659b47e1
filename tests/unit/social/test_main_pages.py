"""Home, profiles, the follow buttons and profile editing."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from social.dbtypes import utcnow
from social.extensions import db
from social.models import User
from social.outbox.models import OutboxEvent
from sqlalchemy import select

from tests.support.social_app import log_in, make_user


def text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def test_the_people_page_lists_the_newest_members(client: FlaskClient) -> None:
    make_user("susan")
    make_user("李雷")
    page = text(client, "/people")
    assert 'href="/user/susan"' in page
    assert "李雷" in page


def test_a_profile_shows_avatar_about_me_last_seen_and_counts(client: FlaskClient) -> None:
    susan = make_user("susan", about_me="I like tea.")
    bob = make_user("bob")
    bob.follow(susan)
    db.session.commit()
    page = text(client, "/user/susan")
    assert susan.avatar(192).replace("&", "&amp;") in page
    assert "I like tea." in page
    assert "Last seen" in page
    assert "<strong>1</strong> follower<" in page  # not "1 followers"
    assert "<strong>0</strong> following" in page
    assert 'href="/user/susan/followers"' in page and 'href="/user/susan/following"' in page  # each count a link
    assert 'href="/user/bob"' in text(client, "/user/susan/followers")


def test_nicknames_are_found_whatever_their_case(client: FlaskClient) -> None:
    make_user("Susan")
    assert '<h1 class="nickname">Susan</h1>' in text(client, "/user/SUSAN")


def test_an_unknown_user_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/user/nobody")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "404" in response.get_data(as_text=True)


def test_user_text_is_escaped(client: FlaskClient) -> None:
    make_user("mallory", about_me="<script>alert(1)</script>")
    page = text(client, "/user/mallory")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_email_address_is_shown_only_to_its_owner(client: FlaskClient) -> None:
    make_user("susan", email="susan@example.com")
    make_user("bob")
    assert "susan@example.com" not in text(client, "/user/susan")
    log_in(client, "bob")
    assert "susan@example.com" not in text(client, "/user/susan")
    client.post("/auth/logout")
    log_in(client, "susan")
    assert "susan@example.com" in text(client, "/user/susan")


def test_the_follow_button_follows_and_says_so(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    log_in(client, "susan")
    assert 'action="/follow/bob"' in text(client, "/user/bob")
    response = client.post("/follow/bob", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You are now following bob." in page
    assert 'action="/unfollow/bob"' in page
    assert "<strong>1</strong> follower<" in page
    assert len(db.session.scalars(select(OutboxEvent)).all()) == 1


def test_the_unfollow_button_unfollows_and_says_so(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    log_in(client, "susan")
    client.post("/follow/bob")
    page = client.post("/unfollow/bob", follow_redirects=True).get_data(as_text=True)
    assert "You are not following bob anymore." in page
    assert "<strong>0</strong> followers" in page


def test_following_yourself_is_refused_with_a_message(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    page = client.post("/follow/susan", follow_redirects=True).get_data(as_text=True)
    assert "You cannot follow yourself!" in page
    assert db.session.scalars(select(OutboxEvent)).all() == []


def test_following_needs_a_login_and_an_existing_user(client: FlaskClient) -> None:
    make_user("susan")
    assert client.post("/follow/susan").location.startswith("/auth/login")
    log_in(client, "susan")
    assert client.post("/follow/nobody").status_code == 404
    assert client.get("/follow/susan").status_code == 405


def test_editing_the_profile_saves_about_me_locale_and_time_zone(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    assert client.get("/edit_profile").location == "/settings/profile"  # the tutorial's address still leads there
    assert 'name="time_zone"' in text(client, "/settings/profile")
    response = client.post("/settings/profile", data={"about_me": "New me", "locale": "ja", "time_zone": "Asia/Tokyo"})
    assert response.location == "/settings/profile"
    user = db.session.scalars(select(User)).one()
    db.session.refresh(user)
    assert (user.about_me, user.locale, user.time_zone) == ("New me", "ja", "Asia/Tokyo")


def test_editing_the_profile_refuses_too_long_text_and_an_unknown_zone(client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    page = client.post("/settings/profile", data={"about_me": "x" * 281, "locale": "en", "time_zone": "Mars/Base"})
    assert "280 characters" in page.get_data(as_text=True)
    page = client.post("/settings/profile", data={"about_me": "", "locale": "en", "time_zone": "Mars/Base"})
    assert "Not a time zone we know" in page.get_data(as_text=True)


def test_a_logged_in_users_requests_move_last_seen_forward(app: Flask, client: FlaskClient) -> None:
    susan = make_user("susan")
    susan.last_seen = utcnow() - timedelta(days=3)
    db.session.commit()
    log_in(client, "susan")
    client.get("/")
    db.session.refresh(susan)
    assert utcnow() - susan.last_seen < timedelta(minutes=1)


def test_the_followers_list_pages(client: FlaskClient) -> None:
    star = make_user("star")
    for i in range(25):
        make_user(f"fan{i:02}").follow(star)
    db.session.commit()
    first = text(client, "/user/star/followers")
    assert "25 followers" in first
    assert 'href="/user/star/followers?page=2"' in first
    second = text(client, "/user/star/followers?page=2")
    assert second.count('class="nickname" href="/user/fan') == 5
    assert text(client, "/user/star/followers?page=999999999999")
    assert "1 following" in text(client, "/user/fan00/following")
