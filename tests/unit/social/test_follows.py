"""The follow service: a follow and its `user.followed` event are written together, once."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from microblog_contracts import USER_FOLLOWED, USER_UNFOLLOWED, UserFollowed, UserUnfollowed, decode_event
from social import follows
from social.extensions import db
from social.models import Follow
from social.outbox.models import OutboxEvent
from sqlalchemy import func, select

from tests.support.social_app import BASE_URL, make_user


def outbox_rows() -> list[OutboxEvent]:
    return list(db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.position)))


def follow_rows() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Follow)) or 0)


def test_a_new_follow_writes_the_follow_and_exactly_one_outbox_event(app: Flask) -> None:
    susan = make_user("susan", about_me="Hi <there>", locale="fr")
    bob = make_user("bob", email="Bob@example.com")
    assert follows.follow(susan, bob) is True
    db.session.expire_all()
    assert susan.is_following(bob)
    [row] = outbox_rows()
    assert row.event_type == USER_FOLLOWED
    assert row.published_at is None
    event = decode_event(row.body.encode())
    assert event.id == row.event_id
    data = json.loads(row.body)["data"]
    assert data["follower"] == {
        "id": susan.id,
        "nickname": "susan",
        "about_me": "Hi <there>",
        "avatar_url": f"http://social.test/avatar/{susan.id}.png?s=128",
        "profile_url": f"{BASE_URL}/user/susan",
    }
    assert isinstance(event, UserFollowed)  # version 2: the followed user's whole mail profile
    followed = event.data.followed
    assert (followed.user_id, followed.nickname, followed.email, followed.locale) == (bob.id, "bob", bob.email, "en")
    assert (followed.version, followed.confirmed) == (bob.profile_version, False)
    assert followed.preferences.follow_notices is None  # not chosen: the notifier takes its default
    assert set(followed.unsubscribe_urls) == {"follow_notices", "announcements"}
    assert str(followed.unsubscribe_urls["follow_notices"]).startswith(f"{BASE_URL}/unsubscribe/{bob.id}.")


def test_following_again_writes_nothing(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follows.follow(susan, bob)
    assert follows.follow(susan, bob) is False
    assert (follow_rows(), len(outbox_rows())) == (1, 1)


def test_following_yourself_is_refused_and_writes_nothing(app: Flask) -> None:
    susan = make_user("susan")
    with pytest.raises(follows.CannotFollowSelf):
        follows.follow(susan, susan)
    db.session.rollback()
    assert (follow_rows(), len(outbox_rows())) == (0, 0)


def test_each_new_follow_gets_its_own_event(app: Flask) -> None:
    susan, bob, ann = make_user("susan"), make_user("bob"), make_user("ann")
    follows.follow(susan, bob)
    follows.follow(ann, bob)
    follows.follow(bob, susan)
    rows = outbox_rows()
    assert len(rows) == 3
    assert len({row.event_id for row in rows}) == 3


def test_unfollow_removes_the_follow_and_emits_one_unfollowed_event(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follows.follow(susan, bob)
    assert follows.unfollow(susan, bob) is True
    assert follows.unfollow(susan, bob) is False
    assert follow_rows() == 0
    assert [row.event_type for row in outbox_rows()] == [USER_FOLLOWED, USER_UNFOLLOWED]
    event = decode_event(outbox_rows()[-1].body.encode())
    assert isinstance(event, UserUnfollowed)
    assert (event.data.follower_id, event.data.followed_id) == (susan.id, bob.id)


def test_unfollowing_someone_never_followed_emits_nothing(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    assert follows.unfollow(susan, bob) is False
    assert outbox_rows() == []


def test_following_again_after_unfollowing_is_a_new_follow_with_a_new_event(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follows.follow(susan, bob)
    follows.unfollow(susan, bob)
    assert follows.follow(susan, bob) is True
    assert follow_rows() == 1
    assert [row.event_type for row in outbox_rows()] == [USER_FOLLOWED, USER_UNFOLLOWED, USER_FOLLOWED]


def test_a_follow_of_an_account_no_mail_can_reach_still_stands_without_an_event(app: Flask) -> None:
    susan = make_user("susan")
    odd = make_user("odd", email="jöhn@example.com")  # made around sign-up's checks
    assert follows.follow(susan, odd)
    assert susan.is_following(odd)
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent)) == 0
