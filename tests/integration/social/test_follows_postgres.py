"""Following on PostgreSQL: the follow and its event commit together, once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from social import follows
from social.extensions import db
from social.models import Follow, User
from social.outbox.models import OutboxEvent
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.support.social_app import BASE_URL, api_token, bearer, make_user


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
    assert counts() == (0, 1)


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
