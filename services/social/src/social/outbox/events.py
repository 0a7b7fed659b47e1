"""Building contract events from social's own models."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import quote

from microblog_contracts import (
    Follower,
    MailProfile,
    UserFollowed,
    UserFollowedData,
    UserUnfollowed,
    UserUnfollowedData,
)


class _FollowerLike(Protocol):
    id: int
    nickname: str
    about_me: str | None

    def avatar(self, size: int) -> str: ...


def profile_url(base_url: str, nickname: str) -> str:
    """The absolute URL of a user's profile page."""
    return f"{base_url.rstrip('/')}/user/{quote(nickname, safe='')}"


def user_followed_event(
    follower: _FollowerLike, followed: MailProfile, *, base_url: str, at: datetime
) -> UserFollowed:
    """The `user.followed` event (version 2) for `follower` starting to follow the user whose
    mail profile is `followed`, at `at`."""
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=Follower(
                id=follower.id,
                nickname=follower.nickname,
                about_me=follower.about_me or None,
                avatar_url=base_url.rstrip("/") + follower.avatar(128),  # type: ignore[arg-type]
                profile_url=profile_url(base_url, follower.nickname),  # type: ignore[arg-type]
            ),
            followed=followed,
            followed_at=at,
        ),
    )


def user_unfollowed_event(follower_id: int, followed_id: int, *, at: datetime) -> UserUnfollowed:
    """The `user.unfollowed` event for a follow undone at `at`."""
    return UserUnfollowed(
        time=at, data=UserUnfollowedData(follower_id=follower_id, followed_id=followed_id, unfollowed_at=at)
    )
