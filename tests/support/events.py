"""Building contract events for tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from microblog_contracts import FollowedUser, Follower, UserFollowed, UserFollowedData

_ids = itertools.count(1)


def user_followed(
    *,
    follower_id: int | None = None,
    follower: str | None = None,
    followed_id: int = 100_000,
    followed: str = "bob",
    email: str = "bob@example.com",
    about_me: str | None = "I write about birds.",
    at: datetime | None = None,
    locale: str = "en",
    base_url: str = "http://social.test",
) -> UserFollowed:
    """A valid `user.followed` event; every call a new event id and, unless given, follower."""
    n = next(_ids)
    follower_id = follower_id or n
    follower = follower or f"user{follower_id}"
    at = at or datetime.now(UTC)
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=Follower(
                id=follower_id,
                nickname=follower,
                about_me=about_me,
                avatar_url=f"https://www.gravatar.com/avatar/{follower_id:032x}?d=identicon&s=128",  # type: ignore[arg-type]
                profile_url=f"{base_url}/user/{follower}",  # type: ignore[arg-type]
            ),
            followed=FollowedUser(id=followed_id, nickname=followed, email=email, locale=locale),
            followed_at=at,
        ),
    )


def later(event: UserFollowed, by: timedelta) -> datetime:
    return event.data.followed_at + by
