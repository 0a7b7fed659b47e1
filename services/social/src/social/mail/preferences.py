"""What a user wants to be mailed about: one model for the API and the page, one way to change it.

A preference is a column of the user of the same name. To offer another follow-notice mode (the
floods issue: `batched`, `daily`), add it to :data:`OFFERED_NOTICE_MODES`; to offer another
preference (time zone, quiet hours), add a field to both models below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from microblog_contracts import NoticeMode, Preference
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, field_validator

from social.extensions import db
from social.mail.profiles import lock_profile, record_profile_changed
from social.models import User

#: The follow-notice modes people may choose now.
OFFERED_NOTICE_MODES: tuple[NoticeMode, ...] = (NoticeMode.IMMEDIATELY, NoticeMode.OFF)

#: Each mode in words, for the settings page.
NOTICE_MODE_WORDS = {
    NoticeMode.IMMEDIATELY: "A mail for each new follower",
    NoticeMode.BATCHED: "The first at once, the rest of a busy spell in one mail",
    NoticeMode.DAILY: "One mail a day",
    NoticeMode.OFF: "No mail",
}


def _offered_mode(value: str) -> str:
    if value not in {mode.value for mode in OFFERED_NOTICE_MODES}:
        raise ValueError(f"choose one of {', '.join(mode.value for mode in OFFERED_NOTICE_MODES)}")
    return value


FollowNotices = Annotated[
    str,
    AfterValidator(_offered_mode),
    WithJsonSchema({"type": "string", "enum": [mode.value for mode in OFFERED_NOTICE_MODES]}),
]


class Preferences(BaseModel):
    """A user's mail preferences."""

    model_config = ConfigDict(title="Preferences")

    follow_notices: NoticeMode = Field(description="Mail about new followers.")
    announcements: bool = Field(description="Mail about Microblog itself, now and then.")


def _optional() -> Any:
    """A field that may be left out (and then keeps its value), but is never null."""
    return Field(default=None, json_schema_extra=_without_default)


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class PreferencesChange(BaseModel):
    """Some of the preferences: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", title="PreferencesChange")

    follow_notices: FollowNotices = _optional()
    announcements: StrictBool = _optional()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out to keep it as it is")
        return value


#: What the one-click unsubscribe link of each preference changes.
TURN_OFF = {
    Preference.FOLLOW_NOTICES: PreferencesChange(follow_notices=NoticeMode.OFF.value),
    Preference.ANNOUNCEMENTS: PreferencesChange(announcements=False),
}


def preferences_of(user: User) -> Preferences:
    return Preferences.model_validate(user, from_attributes=True)


def change_preferences(user: User, change: PreferencesChange, *, now: datetime) -> bool:
    """Apply `change` and commit, with `user.profile_changed`; False (and nothing recorded) when
    it changes nothing."""
    wanted = change.model_dump(exclude_unset=True)

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
