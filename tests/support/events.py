"""Building contract events for tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from microblog_contracts import (
    EmailChangeRequested,
    EmailChangeRequestedData,
    EmailConfirmationRequested,
    EmailConfirmationRequestedData,
    EmailSignupAttempted,
    EmailSignupAttemptedData,
    FollowedUser,
    Follower,
    MailPreferences,
    MailProfile,
    NoticeMode,
    PasswordResetRequested,
    PasswordResetRequestedData,
    Preference,
    UserFollowed,
    UserFollowedData,
    UserFollowedV1,
    UserFollowedV1Data,
    UserProfileChanged,
    UserProfileChangedData,
)

_ids = itertools.count(1)
CONFIRMED_AT = datetime(2026, 11, 1, tzinfo=UTC)
BASE_URL = "http://social.test"


def profile(
    *,
    user_id: int = 100_000,
    nickname: str = "bob",
    email: str = "bob@example.com",
    version: int = 1,
    confirmed: bool = True,
    confirmed_at: datetime = CONFIRMED_AT,
    locale: str = "en",
    follow_notices: NoticeMode | None = None,
    announcements: bool = True,
    preferences: MailPreferences | None = None,
    **fields: Any,
) -> MailProfile:
    """A user's mail profile: confirmed, notices on (in the deployment's default mode), with
    unsubscribe links, unless told otherwise."""
    return MailProfile(
        user_id=user_id, version=version, nickname=nickname, email=email,
        email_confirmed_at=confirmed_at if confirmed else None, locale=locale,
        preferences=preferences or MailPreferences(follow_notices=follow_notices, announcements=announcements),
        unsubscribe_urls={p: f"{BASE_URL}/unsubscribe/{user_id}-{p.value}-token" for p in Preference},  # type: ignore[misc]
        **fields,
    )


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
    base_url: str = BASE_URL,
    followed_profile: MailProfile | None = None,
) -> UserFollowed:
    """A valid `user.followed` event (version 2, the recipient confirmed with notices on); every call
    a new event id and, unless given, follower."""
    n = next(_ids)
    follower_id = follower_id or n
    follower = follower or f"user{follower_id}"
    at = at or datetime.now(UTC)
    return UserFollowed(
        time=at,
        data=UserFollowedData(
            follower=_follower(follower_id, follower, about_me, base_url),
            followed=followed_profile or profile(user_id=followed_id, nickname=followed, email=email, locale=locale),
            followed_at=at,
        ),
    )


def user_followed_v1(*, follower_id: int | None = None, followed_id: int = 100_000, email: str = "bob@example.com",
                     at: datetime | None = None) -> UserFollowedV1:
    """A `user.followed` event of version 1, as social published them before mail profiles."""
    n = next(_ids)
    follower_id = follower_id or n
    at = at or datetime.now(UTC)
    return UserFollowedV1(time=at, data=UserFollowedV1Data(
        follower=_follower(follower_id, f"user{follower_id}", None, BASE_URL),
        followed=FollowedUser(id=followed_id, nickname="bob", email=email, locale="en"),
        followed_at=at))


def _follower(follower_id: int, nickname: str, about_me: str | None, base_url: str) -> Follower:
    return Follower(
        id=follower_id,
        nickname=nickname,
        about_me=about_me,
        avatar_url=f"{base_url}/avatar/{follower_id}.png",  # type: ignore[arg-type]
        profile_url=f"{base_url}/user/{nickname}",  # type: ignore[arg-type]
    )


def profile_changed(changed: MailProfile, at: datetime | None = None) -> UserProfileChanged:
    return UserProfileChanged(data=UserProfileChangedData(profile=changed, changed_at=at or datetime.now(UTC)))


def confirmation_requested(who: MailProfile | None = None, *, address: str | None = None,
                           expires_at: datetime | None = None) -> EmailConfirmationRequested:
    who = who or profile(confirmed=False)
    return EmailConfirmationRequested(data=EmailConfirmationRequestedData(
        profile=who, address=address or who.email, confirm_url=f"{BASE_URL}/confirm/token-{next(_ids)}",  # type: ignore[arg-type]
        expires_at=expires_at or datetime.now(UTC) + timedelta(days=7), purpose="signup"))


def reset_requested(who: MailProfile | None = None, *, expires_at: datetime | None = None) -> PasswordResetRequested:
    who = who or profile()
    return PasswordResetRequested(data=PasswordResetRequestedData(
        profile=who, reset_url=f"{BASE_URL}/reset_password/token-{next(_ids)}",  # type: ignore[arg-type]
        expires_at=expires_at or datetime.now(UTC) + timedelta(hours=1)))


def change_requested(who: MailProfile | None = None, *, new_address: str = "new@example.com") -> EmailChangeRequested:
    who = who or profile()
    return EmailChangeRequested(data=EmailChangeRequestedData(
        profile=who, old_address=who.email, new_address=new_address, requested_at=datetime.now(UTC)))


def later(event: UserFollowed, by: timedelta) -> datetime:
    return event.data.followed_at + by


def signup_attempted(who: MailProfile | None = None, *, expires_at: datetime | None = None) -> EmailSignupAttempted:
    who = who or profile()
    now = datetime.now(UTC)
    return EmailSignupAttempted(data=EmailSignupAttemptedData(
        profile=who, attempted_at=now, reset_url=f"{BASE_URL}/reset_password/token-{next(_ids)}",  # type: ignore[arg-type]
        expires_at=expires_at or now + timedelta(hours=1)))
