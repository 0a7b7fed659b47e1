"""What a user wants to be mailed about, and when: one model for the API and the page, one way to
change it.

A preference is a column of the user of the same name, except `quiet_hours` (two columns). How a
user hears of new followers is NULL until they choose: they then get FOLLOW_NOTICE_DEFAULT, the
setting of whichever process decides (social to show it, the notifier to send by it), and keep
following it when an operator changes it. Choosing a mode, even the default's, pins it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microblog_contracts import NoticeMode, Preference
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from social.extensions import db
from social.mail.preference_fields import DigestHour, QuietHours, TimeZoneName
from social.mail.profiles import lock_profile, record_profile_changed
from social.models import User
from social.settings import current_settings
from social.translate import _l

#: Each mode in one line, for the settings page.
NOTICE_MODE_WORDS = {
    NoticeMode.IMMEDIATELY: _l("A mail for each follow, a minute after it."),
    NoticeMode.BATCHED: _l("The first follow mailed after a minute; the rest of a busy spell gathered into one mail."),
    NoticeMode.DAILY: _l("One digest a day, at the hour you choose below."),
    NoticeMode.OFF: _l("No mail about new followers."),
}


class Preferences(BaseModel):
    """A user's mail preferences, as they apply now."""

    model_config = ConfigDict(title="Preferences")

    follow_notices: NoticeMode = Field(
        description="How you hear of new followers: your choice, or the default while you have not chosen."
    )
    follow_notices_chosen: bool = Field(
        description="False while `follow_notices` is the default (it then changes with the default)."
    )
    follow_notices_default: NoticeMode = Field(description="The mode of everyone who has not chosen.")
    announcements: bool = Field(description="Mail about Microblog itself, now and then.")
    time_zone: str = Field(description="An IANA name: the digest hour and quiet hours are in it.")
    digest_hour: int = Field(ge=0, le=23, description="The hour (0-23, in `time_zone`) of the daily digest.")
    quiet_hours: QuietHours | None = Field(description="When notices wait; null for none.")


def _optional(description: str) -> Any:
    """A field that may be left out, and then keeps its value."""
    return Field(default=None, description=description, json_schema_extra=_without_default)


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class PreferencesChange(BaseModel):
    """Some of the preferences: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", title="PreferencesChange")

    follow_notices: NoticeMode | None = _optional("A mode; null goes back to the default.")
    announcements: StrictBool = _optional("Mail about Microblog itself, now and then.")
    time_zone: TimeZoneName = _optional("An IANA time zone name, such as `Europe/Berlin`.")
    digest_hour: DigestHour = _optional("The hour (0-23, in your time zone) your daily digest goes out.")
    quiet_hours: QuietHours | None = _optional("When notices wait, in your time zone; null for none.")

    @field_validator("announcements", "time_zone", "digest_hour", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out to keep it as it is")
        return value


#: What the one-click unsubscribe link of each preference changes.
TURN_OFF = {
    Preference.FOLLOW_NOTICES: PreferencesChange(follow_notices=NoticeMode.OFF),
    Preference.ANNOUNCEMENTS: PreferencesChange(announcements=False),
}


def preferences_of(user: User) -> Preferences:
    """`user`'s preferences, with the default mode of this process's settings where they have
    not chosen one."""
    default = current_settings().follow_notice_default
    quiet = (
        QuietHours(start=user.quiet_hours_start, end=user.quiet_hours_end)
        if user.quiet_hours_start and user.quiet_hours_end
        else None
    )
    return Preferences(
        follow_notices=NoticeMode(user.follow_notices) if user.follow_notices else default,
        follow_notices_chosen=user.follow_notices is not None,
        follow_notices_default=default,
        announcements=user.announcements,
        time_zone=user.time_zone,
        digest_hour=user.digest_hour,
        quiet_hours=quiet,
    )


def change_preferences(user: User, change: PreferencesChange, *, now: datetime) -> bool:
    """Apply `change` and commit, with `user.profile_changed`; False (and nothing recorded) when
    it changes nothing."""
    wanted = _columns(change)

    def changes() -> dict[str, object]:
        return {name: value for name, value in wanted.items() if getattr(user, name) != value}

    if not changes():
        return False
    lock_profile(user)
    changed = changes()  # again: another request may have made the same change meanwhile
    if not changed:
        db.session.rollback()
        return False
    for name, value in changed.items():
        setattr(user, name, value)
    record_profile_changed(user, at=now)
    db.session.commit()
    return True


def _columns(change: PreferencesChange) -> dict[str, object]:
    """The user's columns `change` sets, as stored (a mode by its name, quiet hours as two)."""
    columns: dict[str, object] = change.model_dump(mode="json", exclude_unset=True)
    if "quiet_hours" in columns:
        quiet = columns.pop("quiet_hours")
        columns["quiet_hours_start"] = quiet["start"] if isinstance(quiet, dict) else None
        columns["quiet_hours_end"] = quiet["end"] if isinstance(quiet, dict) else None
    return columns
