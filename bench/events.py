"""`user.followed` events as the relay publishes them, made in bulk for preloading queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from microblog_contracts import FollowedUser, Follower, UserFollowed, UserFollowedData

BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    event_id: str
    body: bytes
    at: datetime


def user_followed(n: int, *, prefix: str = "f") -> UserFollowed:
    """Follower `{prefix}{n}` follows user `t{n}`: every event its own pair, so none is folded or
    suppressed by the notifier's cooldown."""
    at = datetime.now(UTC)
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=Follower(
                id=1_000_000 + n, nickname=f"{prefix}{n}", about_me="I write about birds.",
                avatar_url=f"https://www.gravatar.com/avatar/{n:032x}?d=identicon&s=128",
                profile_url=f"{BASE_URL}/user/{prefix}{n}",
            ),
            followed=FollowedUser(id=2_000_000 + n, nickname=f"t{n}", email=f"t{n}@example.com", locale="en"),
            followed_at=at,
        ),
    )


def encoded_events(count: int, *, prefix: str = "f") -> list[EncodedEvent]:
    """`count` distinct events, JSON-encoded once."""
    events = (user_followed(n, prefix=prefix) for n in range(count))
    return [EncodedEvent(e.id, e.to_json_bytes(), e.time) for e in events]
