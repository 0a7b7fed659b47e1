"""`user.followed` events as the relay publishes them, made in bulk for preloading queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from microblog_contracts import Follower, MailPreferences, MailProfile, Preference, UserFollowed, UserFollowedData

BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    event_id: str
    body: bytes
    at: datetime


#: When the followed users confirmed their addresses: every recipient in the bench has.
CONFIRMED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def user_followed(n: int, *, prefix: str = "f") -> UserFollowed:
    """Follower `{prefix}{n}` follows user `t{n}`, whose address is confirmed and who wants follow
    notices: every event its own pair and recipient, so none is folded, skipped by the cooldown or
    held back by the daily cap."""
    at = datetime.now(UTC)
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=Follower(
                id=1_000_000 + n, nickname=f"{prefix}{n}", about_me="I write about birds.",
                avatar_url=f"https://www.gravatar.com/avatar/{n:032x}?d=identicon&s=128",
                profile_url=f"{BASE_URL}/user/{prefix}{n}",
            ),
            followed=MailProfile(
                user_id=2_000_000 + n, version=1, nickname=f"t{n}", email=f"t{n}@example.com", locale="en",
                email_confirmed_at=CONFIRMED_AT, preferences=MailPreferences(),
                unsubscribe_urls={p: f"{BASE_URL}/unsubscribe/t{n}-{p.value}" for p in Preference},
            ),
            followed_at=at,
        ),
    )


#: The one user a storm of follows falls on.
STORM_TARGET = 3_000_000


def storm_follow(n: int) -> UserFollowed:
    """Follower `s{n}` follows the storm's one target, who wants follow notices in the deployment's
    default mode (batched)."""
    at = datetime.now(UTC)
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=Follower(
                id=4_000_000 + n, nickname=f"s{n}", about_me=None,
                avatar_url=f"{BASE_URL}/avatar/s{n}.png", profile_url=f"{BASE_URL}/user/s{n}",
            ),
            followed=MailProfile(
                user_id=STORM_TARGET, version=1, nickname="popular", email="popular@example.com",
                email_confirmed_at=CONFIRMED_AT, preferences=MailPreferences(),
                unsubscribe_urls={p: f"{BASE_URL}/unsubscribe/popular-{p.value}" for p in Preference},
            ),
            followed_at=at,
        ),
    )


def encoded_events(count: int, *, prefix: str = "f") -> list[EncodedEvent]:
    """`count` distinct events, JSON-encoded once."""
    events = (user_followed(n, prefix=prefix) for n in range(count))
    return [EncodedEvent(e.id, e.to_json_bytes(), e.time) for e in events]
