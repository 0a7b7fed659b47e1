"""Following on PostgreSQL: the follow and its event commit together, once; so do an unfollow and
a change of a user's mail profile."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from microblog_contracts import USER_PROFILE_CHANGED
from social import follows
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.preferences import PreferencesChange, change_preferences
from social.models import Follow, User
from social.outbox.models import OutboxEvent
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.support.social_app import api_token, bearer, make_user, recorded_events


def counts() -> tuple[int, int]:
    db.session.rollback()  # read what is committed now, not a snapshot
    follows_ = db.session.scalar(select(func.count()).select_from(Follow))
    events = db.session.scalar(select(func.count()).select_from(OutboxEvent))
    return int(follows_ or 0), int(events or 0)


def test_a_follow_commits_the_follow_and_its_event_together(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    assert follows.follow(susan, bob) is True
    assert counts() == (1, 1)


def test_a_follow_whose_event_cannot_be_written_leaves_no_follow(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    db.session.execute(
        text(
            "CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$"
        )
    )
    db.session.execute(
        text(
            "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox_events "
            "FOR EACH ROW EXECUTE FUNCTION refuse_outbox()"
        )
    )
    db.session.commit()
    with pytest.raises(DBAPIError, match="outbox refused"):
        follows.follow(susan, bob)
    assert counts() == (0, 0)


def test_two_identical_follows_at_once_make_one_follow_and_one_event(app: Flask) -> None:
    make_user("susan")
    make_user("bob")
    barrier = threading.Barrier(2)
    outcomes: list[bool | BaseException] = []

    def follow_once() -> None:
        with app.app_context():
            susan = db.session.scalars(select(User).filter_by(nickname="susan")).one()
            bob = db.session.scalars(select(User).filter_by(nickname="bob")).one()
            barrier.wait(timeout=10)
            try:
                outcomes.append(follows.follow(susan, bob))
            except BaseException as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=follow_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes, key=str) == [False, True]
    assert counts() == (1, 1)


def test_the_api_follows_and_unfollows_on_postgres(client: FlaskClient) -> None:
    make_user("susan")
    make_user("李雷", email="lilei@example.com")
    token = api_token(client, "susan")
    assert client.put("/api/users/me/following/李雷", headers=bearer(token)).status_code == 204
    assert client.put("/api/users/me/following/李雷", headers=bearer(token)).status_code == 204
    assert counts() == (1, 1)
    followers = client.get("/api/users/李雷/followers").get_json()
    assert [item["nickname"] for item in followers["items"]] == ["susan"]
    assert client.delete("/api/users/me/following/李雷", headers=bearer(token)).status_code == 204
    assert client.delete("/api/users/me/following/李雷", headers=bearer(token)).status_code == 204
    assert counts() == (0, 2)  # the follow, and its undoing, once


def at_once(app: Flask, action: Callable[[], object], times: int = 2) -> list[object]:
    """Run `action` on `times` threads released together, each in an app context of its own."""
    barrier = threading.Barrier(times)
    outcomes: list[object] = []

    def run() -> None:
        with app.app_context():
            barrier.wait(timeout=10)
            try:
                outcomes.append(action())
            except BaseException as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def by_name(nickname: str) -> User:
    return db.session.scalars(select(User).filter_by(nickname=nickname)).one()


def test_two_unfollows_at_once_remove_one_follow_and_record_one_event(app: Flask) -> None:
    follows.follow(make_user("susan"), make_user("bob"))
    outcomes = at_once(app, lambda: follows.unfollow(by_name("susan"), by_name("bob")))
    assert sorted(outcomes, key=str) == [False, True]
    assert counts() == (0, 2)


def test_changes_of_one_profile_at_once_each_get_a_version_of_their_own(app: Flask) -> None:
    make_user("susan", profile_version=1)
    changes = iter([PreferencesChange(follow_notices="off"), PreferencesChange(announcements=False)] * 2)
    lock = threading.Lock()

    def change() -> bool:
        with lock:
            wanted = next(changes)
        return change_preferences(by_name("susan"), wanted, now=utcnow())

    assert at_once(app, change, times=4).count(True) == 2  # two asked for what the other two did already
    db.session.rollback()
    profiles = [event.data.profile for event in recorded_events(USER_PROFILE_CHANGED)]
    assert [p.version for p in profiles] == [2, 3]
    assert (profiles[-1].preferences.follow_notices, profiles[-1].preferences.announcements) == ("off", False)


def test_nul_bytes_and_huge_pages_never_reach_postgres(client: FlaskClient) -> None:
    make_user("susan")
    assert client.get("/api/users/nul%00").status_code == 404
    assert client.get("/user/nul%00").status_code == 404
    assert (
        client.post(
            "/api/users",
            json={
                "nickname": "x",
                "email": "x@example.com",
                "password": "12345678",
                "about_me": "\x00",
            },
        ).status_code
        == 422
    )
    assert client.get("/api/users/susan/followers?page=100000").status_code == 200
    assert client.get("/user/susan?page=99999999999999").status_code == 200
