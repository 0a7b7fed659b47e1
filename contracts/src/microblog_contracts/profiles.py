"""A user as the mail they get depends on them: address, confirmation, language, time zone and
preferences. Social owns this; every event that asks for a mail carries a snapshot of it, and
`user.profile_changed` tells of every change, so a mail waiting in a queue or a retry is sent
(or not) by what the user wants when it goes, not when it was asked for.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

from microblog_contracts.addresses import MailAddress
from microblog_contracts.envelope import Envelope

USER_PROFILE_CHANGED: Final = "user.profile_changed"
USER_PROFILE_CHANGED_V1_SCHEMA: Final = "urn:microblog:schema:user.profile_changed:1"
USER_DELETED: Final = "user.deleted"
USER_DELETED_V1_SCHEMA: Final = "urn:microblog:schema:user.deleted:1"

#: A database id: positive and inside a signed 64-bit integer, as every database stores it.
UserId = Annotated[int, Field(gt=0, le=2**63 - 1)]
#: Letters (any script), digits, `.`, `_` and `-`: safe in URLs, subjects and file names.
Nickname = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]
#: A BCP 47 language tag such as `en`, `zh-CN` or `pt-BR`.
Locale = Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
#: An IANA time zone name such as `Europe/Berlin` or `Asia/Shanghai` (checked by social).
TimeZone = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
#: A time of day, `HH:MM`, 24-hour.
TimeOfDay = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class NoticeMode(enum.StrEnum):
    """How a user wants to hear of new followers."""

    IMMEDIATELY = "immediately"  # one mail per follow
    BATCHED = "batched"  # the first at once, the rest of a busy spell gathered into one mail
    DAILY = "daily"  # one digest a day, at the hour the user chose
    OFF = "off"


class Preference(enum.StrEnum):
    """The kinds of notification a user can turn off, each with its own unsubscribe link."""

    FOLLOW_NOTICES = "follow_notices"
    ANNOUNCEMENTS = "announcements"


class QuietHours(BaseModel):
    """Hours, in the user's time zone, when notices wait; `end` before `start` spans midnight."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    start: TimeOfDay
    end: TimeOfDay


class MailPreferences(BaseModel):
    """What a user wants to be mailed about, and when."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: None while the user has not chosen: every process then takes its FOLLOW_NOTICE_DEFAULT.
    follow_notices: NoticeMode | None = None
    announcements: bool = True
    #: The hour (0-23, in the user's time zone) a daily digest goes out.
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 8
    quiet_hours: QuietHours | None = None


class MailProfile(BaseModel):
    """The recipient: everything the notifier needs to decide about, address and word a mail."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: UserId
    #: Grows with every change of the profile: of two snapshots, the higher version is the truth.
    version: Annotated[int, Field(ge=0, le=2**63 - 1)]
    nickname: Nickname
    email: MailAddress
    #: When the address was last confirmed; None while it is not.
    email_confirmed_at: AwareDatetime | None = None
    locale: Locale = "en"
    time_zone: TimeZone = "UTC"
    preferences: MailPreferences = MailPreferences()
    #: One-click unsubscribe (RFC 8058) links, by preference (`follow_notices`, `announcements`).
    unsubscribe_urls: dict[Preference, HttpUrl] = Field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class UserProfileChangedData(BaseModel):
    """The `data` of `user.profile_changed`, version 1: the whole profile after the change."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profile: MailProfile
    changed_at: AwareDatetime


class UserProfileChanged(Envelope[UserProfileChangedData]):
    """A user's address, its confirmation, language, time zone or mail preferences changed."""

    type: Literal["user.profile_changed"] = USER_PROFILE_CHANGED
    dataschema: Literal["urn:microblog:schema:user.profile_changed:1"] = USER_PROFILE_CHANGED_V1_SCHEMA


class UserDeletedData(BaseModel):
    """The user deleted their account: every service forgets what it keeps of them (the notifier:
    their address, profile, waiting notices, ledger rows and suppression)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: UserId
    deleted_at: AwareDatetime


class UserDeleted(Envelope[UserDeletedData]):
    type: Literal["user.deleted"] = USER_DELETED
    dataschema: Literal["urn:microblog:schema:user.deleted:1"] = USER_DELETED_V1_SCHEMA
