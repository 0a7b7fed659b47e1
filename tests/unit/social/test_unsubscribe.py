"""One-click unsubscribe (RFC 8058): a POST with no cookie, login or CSRF token turns one kind of
mail off; a GET changes nothing; an altered or unknown token is a 404 and changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from microblog_contracts import USER_PROFILE_CHANGED, Preference
from social.extensions import db
from social.mail.profiles import mail_profile
from social.models import User
from sqlalchemy import select

from tests.support.social_app import BASE_URL, build_app, make_user, recorded_events

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def link(user: User, preference: Preference) -> str:
    url = str(mail_profile(user).unsubscribe_urls[preference])
    assert url.startswith(f"{BASE_URL}/unsubscribe/")
    return url.removeprefix(BASE_URL)


def reload() -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.nickname == "susan")).one()


@pytest.fixture
def csrf_app(tmp_path: object) -> Flask:
    """An app that checks CSRF tokens, as production does: the one-click POST must not need one."""
    return build_app(f"sqlite:///{tmp_path}/csrf.db", migrate=False, WTF_CSRF_ENABLED=True)


def test_a_one_click_post_without_cookie_or_csrf_turns_follow_notices_off(csrf_app: Flask) -> None:
    with csrf_app.app_context():
        user = make_user("susan", profile_version=1)
        path = link(user, Preference.FOLLOW_NOTICES)
        client = csrf_app.test_client(use_cookies=False)
        response = client.post(path, data=ONE_CLICK)
        assert response.status_code == 200
        assert "Location" not in response.headers and "Set-Cookie" not in response.headers
        assert (reload().follow_notices, reload().announcements) == ("off", True)
        [event] = recorded_events(USER_PROFILE_CHANGED)
        assert (event.data.profile.version, event.data.profile.preferences.follow_notices) == (2, "off")


def test_the_announcements_link_turns_only_announcements_off(client: FlaskClient) -> None:
    user = make_user("susan")
    assert client.post(link(user, Preference.ANNOUNCEMENTS), data=ONE_CLICK).status_code == 200
    assert (reload().follow_notices, reload().announcements) == (None, False)


def test_a_second_post_answers_the_same_and_records_nothing_more(client: FlaskClient) -> None:
    path = link(make_user("susan"), Preference.FOLLOW_NOTICES)
    assert [client.post(path, data=ONE_CLICK).status_code for _ in range(2)] == [200, 200]
    assert len(recorded_events(USER_PROFILE_CHANGED)) == 1


def test_the_page_a_link_opens_changes_nothing_and_its_button_makes_the_same_post(client: FlaskClient) -> None:
    path = link(make_user("susan"), Preference.FOLLOW_NOTICES)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in html
    assert "mail about new followers" in html
    assert reload().follow_notices is None
    assert recorded_events() == []


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
    lambda t: t.replace("follow_notices", "announcements"),  # the preference
    lambda t: "9" + t,  # the user
    lambda t: t.split(".", 1)[0],
    lambda t: "nonsense",
    lambda t: "1." + "x" * 500,
])
def test_an_altered_or_unknown_token_is_a_404_and_changes_nothing(client: FlaskClient, tamper: object) -> None:
    user = make_user("susan")
    path = link(user, Preference.FOLLOW_NOTICES)
    token = path.rsplit("/", 1)[-1]
    altered = f"/unsubscribe/{tamper(token)}"  # type: ignore[operator]
    assert client.get(altered).status_code == 404
    assert client.post(altered, data=ONE_CLICK).status_code == 404
    assert reload().follow_notices is None


def test_a_post_without_the_one_click_body_changes_nothing(client: FlaskClient) -> None:
    path = link(make_user("susan"), Preference.FOLLOW_NOTICES)
    assert client.post(path).status_code == 400
    assert reload().follow_notices is None


def test_links_never_expire_and_a_new_salt_revokes_them(client: FlaskClient) -> None:
    user = make_user("susan")
    path = link(user, Preference.FOLLOW_NOTICES)
    assert link(user, Preference.FOLLOW_NOTICES) == path  # the same link in every mail
    user.unsubscribe_salt = "0" * 32
    db.session.commit()
    assert client.post(path, data=ONE_CLICK).status_code == 404


def test_each_user_has_links_of_their_own(client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    assert link(susan, Preference.FOLLOW_NOTICES) != link(bob, Preference.FOLLOW_NOTICES)
    bobs = link(bob, Preference.FOLLOW_NOTICES)
    client.post(bobs, data=ONE_CLICK)
    assert reload().follow_notices is None
