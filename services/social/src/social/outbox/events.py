"""Building contract events from social's own models."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import quote

from microblog_contracts import FollowedUser, Follower, UserFollowed, UserFollowedData


class _UserLike(Protocol):
    id: int
    nickname: str
    email: str
    about_me: str | None
    locale: str

    def avatar(self, size: int) -> str: ...


def profile_url(base_url: str, nickname: str) -> str:
    """The absolute URL of a user's profile page."""
    return f"{base_url.rstrip('/')}/user/{quote(nickname, safe='')}"


def user_followed_event(
    follower: _UserLike, followed: _UserLike, *, base_url: str, at: datetime
) -> UserFollowed:
    """The `user.followed` event for `follower` starting to follow `followed` at `at`."""
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=Follower(
                id=follower.id,
                nickname=follower.nickname,
                about_me=follower.about_me or None,
                avatar_url=follower.avatar(128),  # type: ignore[arg-type]
                profile_url=profile_url(base_url, follower.nickname),  # type: ignore[arg-type]
            ),
            followed=FollowedUser(
                id=followed.id,
                nickname=followed.nickname,
                email=followed.email,
                locale=followed.locale,
            ),
            followed_at=at,
        ),
    )
