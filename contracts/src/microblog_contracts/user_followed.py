"""`user.followed`: someone started following a user.

It carries everything the notifier needs to write the follower e-mail, so consumers never
call back into the social service.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, PositiveInt

from microblog_contracts.addresses import MailAddress
from microblog_contracts.envelope import Envelope

USER_FOLLOWED: Final = "user.followed"
#: Version 1 of the `data` schema; a consumer dead-letters versions it does not know.
USER_FOLLOWED_V1_SCHEMA: Final = "urn:microblog:schema:user.followed:1"

#: Letters (any script), digits, `.`, `_` and `-`: safe in URLs, subjects and file names.
Nickname = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]
#: A BCP 47 language tag such as `en`, `zh-CN` or `pt-BR`.
Locale = Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]


class Follower(BaseModel):
    """The user who started following."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: PositiveInt
    nickname: Nickname
    about_me: Annotated[str, Field(max_length=1000)] | None = None
    avatar_url: HttpUrl
    profile_url: HttpUrl


class FollowedUser(BaseModel):
    """The user being followed: the recipient of the e-mail."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: PositiveInt
    nickname: Nickname
    email: MailAddress
    locale: Locale = "en"


class UserFollowedData(BaseModel):
    """The `data` of a `user.followed` event, version 1."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    follower: Follower
    followed: FollowedUser
    followed_at: AwareDatetime


class UserFollowed(Envelope[UserFollowedData]):
    """A `user.followed` CloudEvent."""

    type: Literal["user.followed"] = USER_FOLLOWED
    dataschema: Literal["urn:microblog:schema:user.followed:1"] = USER_FOLLOWED_V1_SCHEMA
