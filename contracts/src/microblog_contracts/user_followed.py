"""`user.followed` and `user.unfollowed`: someone started, or stopped, following a user.

A follow carries everything the notifier needs to write the follower e-mail (the follower as the
mail shows them, the followed user's mail profile), so consumers never call back into social.

Version 2 carries the followed user's whole :class:`MailProfile` (confirmation, preferences,
time zone, unsubscribe links); version 1 carried only their address and language. Consumers read
both: events of version 1 stay in the event log for replays.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

from microblog_contracts.addresses import MailAddress
from microblog_contracts.envelope import Envelope
from microblog_contracts.profiles import Locale, MailProfile, Nickname, UserId

USER_FOLLOWED: Final = "user.followed"
USER_FOLLOWED_V1_SCHEMA: Final = "urn:microblog:schema:user.followed:1"
USER_FOLLOWED_V2_SCHEMA: Final = "urn:microblog:schema:user.followed:2"
USER_UNFOLLOWED: Final = "user.unfollowed"
USER_UNFOLLOWED_V1_SCHEMA: Final = "urn:microblog:schema:user.unfollowed:1"

__all__ = ["Locale", "Nickname"]  # re-exported: they were first defined here


class Follower(BaseModel):
    """The user who started following."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UserId
    nickname: Nickname
    about_me: Annotated[str, Field(max_length=1000)] | None = None
    avatar_url: HttpUrl
    profile_url: HttpUrl


class FollowedUser(BaseModel):
    """Version 1's followed user: the recipient's address and language only."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UserId
    nickname: Nickname
    email: MailAddress
    locale: Locale = "en"


class UserFollowedData(BaseModel):
    """The `data` of a `user.followed` event, version 2."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    follower: Follower
    followed: MailProfile
    followed_at: AwareDatetime


class UserFollowed(Envelope[UserFollowedData]):
    """A `user.followed` CloudEvent, the version social publishes."""

    type: Literal["user.followed"] = USER_FOLLOWED
    dataschema: Literal["urn:microblog:schema:user.followed:2"] = USER_FOLLOWED_V2_SCHEMA


class UserFollowedV1Data(BaseModel):
    """The `data` of a `user.followed` event, version 1."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    follower: Follower
    followed: FollowedUser
    followed_at: AwareDatetime


class UserFollowedV1(Envelope[UserFollowedV1Data]):
    """A `user.followed` CloudEvent of version 1, as social published it until version 2."""

    type: Literal["user.followed"] = USER_FOLLOWED
    dataschema: Literal["urn:microblog:schema:user.followed:1"] = USER_FOLLOWED_V1_SCHEMA


class UserUnfollowedData(BaseModel):
    """The `data` of a `user.unfollowed` event, version 1."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    follower_id: UserId
    followed_id: UserId
    unfollowed_at: AwareDatetime


class UserUnfollowed(Envelope[UserUnfollowedData]):
    """A `user.unfollowed` CloudEvent: a follow was undone."""

    type: Literal["user.unfollowed"] = USER_UNFOLLOWED
    dataschema: Literal["urn:microblog:schema:user.unfollowed:1"] = USER_UNFOLLOWED_V1_SCHEMA
