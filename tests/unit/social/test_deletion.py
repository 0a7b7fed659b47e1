"""A user can delete their account; the outbox then keeps nothing of them, and keeps addresses
only for OUTBOX_RETENTION."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from microblog_contracts import USER_DELETED
from social import users
from social.dbtypes import utcnow
from social.extensions import db
from social.follows import follow
from social.models import Follow, User
from social.outbox.models import OutboxEvent
from social.outbox.retention import prune_outbox
from social.relay.replay import ReplayWindow, count_replayable
from sqlalchemy import func, select, update

from tests.support.social_app import PASSWORD, api_token, bearer, log_in, make_user


def bodies(event_type: str | None = None) -> list[dict[str, object]]:
    query = select(OutboxEvent).order_by(OutboxEvent.position)
    if event_type:
        query = query.where(OutboxEvent.event_type == event_type)
    return [json.loads(row.body) for row in db.session.scalars(query)]


def publish_all() -> None:
    db.session.execute(update(OutboxEvent).values(published_at=utcnow()))
    db.session.commit()


def test_deleting_through_the_api_needs_the_password_and_removes_the_account(client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follow(susan, bob)
    follow(bob, susan)
    token = api_token(client, "susan")
    wrong = client.delete("/api/users/me", headers=bearer(token), json={"password": "not it at all"})
    assert wrong.status_code == 403
    assert client.delete("/api/users/me", headers=bearer(token), json={"password": PASSWORD}).status_code == 204
    db.session.expire_all()
    assert users.find_by_nickname("susan") is None
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 0
    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401
    [deleted] = bodies(USER_DELETED)
    assert deleted["data"] == {"user_id": susan.id, "deleted_at": deleted["time"]}


def test_deleting_on_the_page_needs_the_password_and_logs_out(app: Flask, client: FlaskClient) -> None:
    make_user("susan")
    log_in(client, "susan")
    page = client.post("/settings/delete", data={"password": "not it at all"})
    assert "That is not your password." in page.get_data(as_text=True)
    assert client.post("/settings/delete", data={"password": PASSWORD}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_deleted_user_s_published_events_lose_their_data_and_are_not_replayed(
    app: Flask, client: FlaskClient
) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follow(susan, bob)
    publish_all()
    follow(bob, susan)  # still pending when she leaves
    client.delete("/api/users/me", headers=bearer(api_token(client, "susan")), json={"password": PASSWORD})
    followed = bodies("user.followed")
    assert followed[0]["data"] is None  # published: erased at once
    assert followed[1]["data"] is not None  # pending: goes out first
    publish_all()
    pruned = prune_outbox(db.engine, retention=timedelta(days=30), now=utcnow())
    assert pruned.erased == 1
    assert all(body["data"] is None for body in bodies("user.followed"))
    assert "susan@example.com" not in json.dumps(bodies())
    assert bodies(USER_DELETED)[0]["data"] is not None  # the deletion itself stays, for replays
    window = ReplayWindow(since=utcnow() - timedelta(hours=1), until=None, event_type=None)
    assert count_replayable(db.engine, window) == 1  # the deletion only


def test_events_older_than_the_retention_lose_their_addresses_but_stay_replayable(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follow(susan, bob)
    publish_all()
    db.session.execute(update(OutboxEvent).values(occurred_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    follow(bob, susan)
    publish_all()
    pruned = prune_outbox(db.engine, retention=timedelta(days=30), now=utcnow())
    assert (pruned.addresses_dropped, pruned.erased) == (1, 0)
    old, new = bodies("user.followed")
    assert old["data"]["followed"]["email"] is None  # type: ignore[index]
    assert old["data"]["followed"]["unsubscribe_urls"] == {}  # type: ignore[index]
    assert old["data"]["follower"]["nickname"] == "susan"  # type: ignore[index]
    assert new["data"]["followed"]["email"] == "susan@example.com"  # type: ignore[index]
    window = ReplayWindow(since=utcnow() - timedelta(days=40), until=None, event_type="user.followed")
    assert count_replayable(db.engine, window) == 2
    assert prune_outbox(db.engine, retention=timedelta(days=30), now=utcnow()).addresses_dropped == 0


def test_pending_events_keep_their_addresses_until_published(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follow(susan, bob)
    db.session.execute(update(OutboxEvent).values(occurred_at=utcnow() - timedelta(days=60)))
    db.session.commit()
    assert prune_outbox(db.engine, retention=timedelta(days=30), now=utcnow()).addresses_dropped == 0


def test_a_deleted_user_s_id_is_never_given_to_a_new_account(client: FlaskClient) -> None:
    make_user("susan")
    last = make_user("bob")
    client.delete("/api/users/me", headers=bearer(api_token(client, "bob")), json={"password": PASSWORD})
    assert client.post("/api/users", json={"nickname": "carol", "email": "carol@example.com",
                                           "password": PASSWORD}).status_code == 202
    carol = users.find_by_nickname("carol")
    assert carol is not None and carol.id > last.id
