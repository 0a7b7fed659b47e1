"""Users, follows and API tokens as stored."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import Flask
from social.dbtypes import utcnow
from social.extensions import db
from social.models import ApiToken, CannotFollowSelf

from tests.support.social_app import make_user


def test_passwords_are_stored_hashed_and_checked(app: Flask) -> None:
    user = make_user("susan", password="s3cret-enough")
    assert "s3cret-enough" not in user.password_hash
    assert user.check_password("s3cret-enough")
    assert not user.check_password("wrong")


def test_the_avatar_is_social_s_own_identicon_of_the_user_id_not_a_hash_of_the_address(app: Flask) -> None:
    user = make_user("susan", email="susan@example.com")
    assert user.avatar(80) == f"/avatar/{user.id}.png?s=80"
    assert hashlib.md5(b"susan@example.com").hexdigest() not in user.avatar(80)  # noqa: S324


def test_a_new_user_speaks_english_and_was_last_seen_when_created(app: Flask) -> None:
    user = make_user("susan")
    assert user.locale == "en"
    assert user.last_seen.tzinfo is not None


def test_follow_is_true_only_when_it_creates_the_follow(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    assert susan.follow(bob) is True
    db.session.commit()
    assert susan.follow(bob) is False
    assert susan.is_following(bob)
    assert not bob.is_following(susan)
    assert (bob.follower_count(), bob.following_count()) == (1, 0)
    assert (susan.follower_count(), susan.following_count()) == (0, 1)


def test_unfollow_is_true_only_when_there_was_a_follow(app: Flask) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    susan.follow(bob)
    db.session.commit()
    assert susan.unfollow(bob) is True
    db.session.commit()
    assert susan.unfollow(bob) is False
    assert not susan.is_following(bob)


def test_a_user_cannot_follow_themselves(app: Flask) -> None:
    susan = make_user("susan")
    with pytest.raises(CannotFollowSelf):
        susan.follow(susan)


def test_followers_come_a_page_at_a_time(app: Flask) -> None:
    star = make_user("star")
    fans = [make_user(f"fan{i}") for i in range(5)]
    for fan in fans:
        fan.follow(star)
    db.session.commit()
    first = star.followers_page(page=1, per_page=2)
    last = star.followers_page(page=3, per_page=2)
    assert first.total == 5
    assert first.pages == 3
    assert len(first.items) == 2
    assert len(last.items) == 1
    everyone = {
        u.nickname for p in (1, 2, 3) for u in star.followers_page(page=p, per_page=2).items
    }
    assert everyone == {fan.nickname for fan in fans}


def test_api_tokens_are_stored_only_as_their_sha256(app: Flask) -> None:
    user = make_user("susan")
    row, token = ApiToken.issue(user)
    db.session.commit()
    assert len(token) >= 43  # 32 random bytes, base64url
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, str(row.id)}
    assert ApiToken.find_valid(token) is row
    assert ApiToken.find_valid(token + "x") is None


def test_api_tokens_expire_after_a_day(app: Flask) -> None:
    user = make_user("susan")
    row, token = ApiToken.issue(user)
    db.session.commit()
    assert row.expires_at - row.created_at == timedelta(hours=24)
    assert ApiToken.find_valid(token, now=utcnow() + timedelta(hours=25)) is None
