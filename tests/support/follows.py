"""Making users and follows quickly for tests that need many of them."""

from __future__ import annotations

from flask import Flask
from social.dbtypes import utcnow
from social.extensions import db
from social.follows import follow
from social.models import User

#: A valid password hash nobody can log in with; hashing for real costs ~50 ms a user.
UNUSABLE_HASH = "scrypt:32768:8:1$nologin$" + "0" * 128


def seed_users(app: Flask, count: int, prefix: str = "u", *, confirmed: bool = True) -> list[int]:
    """`count` users named prefix0.., committed; returns their ids. Their addresses are confirmed
    (as an operator's `social users confirm` would), so follows of them are mailed."""
    with app.app_context():
        confirmed_at = utcnow() if confirmed else None
        users = [User(nickname=f"{prefix}{n}", email=f"{prefix}{n}@example.com", password_hash=UNUSABLE_HASH,
                      email_confirmed_at=confirmed_at, profile_version=1)
                 for n in range(count)]
        db.session.add_all(users)
        db.session.commit()
        return [u.id for u in users]


def follow_by_id(app: Flask, follower_id: int, followed_id: int) -> bool:
    """One follow through the service layer, as the pages and the API make it."""
    with app.app_context():
        follower, followed = db.session.get(User, follower_id), db.session.get(User, followed_id)
        assert follower is not None and followed is not None
        return follow(follower, followed)
