"""The form of `/settings/notifications`, read as a :class:`PreferencesChange` so the page and the
API refuse the same values with the same words.

As in the API, a field the post leaves out keeps its value; the one exception is the
announcements box, which browsers leave out when it is unticked, so a box left out is off.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from microblog_contracts import NoticeMode
from pydantic import ValidationError
from wtforms import BooleanField, Field, RadioField, SelectField, StringField
from wtforms.fields import SelectChoice

from social.mail.preferences import NOTICE_MODE_WORDS, Preferences, PreferencesChange
from social.translate import _, _l

#: Each mode's name, as the radio buttons say it.
MODE_NAMES = {NoticeMode.IMMEDIATELY: _l("immediately"), NoticeMode.BATCHED: _l("batched"),
              NoticeMode.DAILY: _l("daily"), NoticeMode.OFF: _l("off")}
#: The radio button that goes back to (or stays with) FOLLOW_NOTICE_DEFAULT.
DEFAULT_CHOICE = "default"


class NotificationsForm(FlaskForm):  # type: ignore[misc]
    follow_notices = RadioField(_l("When someone follows you"), validate_choice=False)
    announcements = BooleanField(_l("Announcements about Microblog"))
    time_zone = StringField(_l("Time zone"),
                            description=_l("Type to search, e.g. Europe/Berlin; the hours below are in it."))
    digest_hour = SelectField(_l("Daily digest at"), coerce=int, validate_choice=False,
                              description=_l("In your time zone."),
                              choices=[SelectChoice(hour, f"{hour:02d}:00") for hour in range(24)])
    quiet_hours_start = StringField(_l("Quiet hours from"))
    quiet_hours_end = StringField(_l("until"),
                                  description=_l("Notices wait, then go out together. Leave both empty for none."))

    def __init__(self, *, default_mode: NoticeMode, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        words = {mode: _lower(str(NOTICE_MODE_WORDS[mode])) for mode in NoticeMode}
        self.follow_notices.choices = [
            SelectChoice(DEFAULT_CHOICE, _("The default, now %(mode)s: %(words)s", mode=MODE_NAMES[default_mode],
                                           words=words[default_mode])),
            *(SelectChoice(mode.value, _("%(mode)s: %(words)s", mode=MODE_NAMES[mode].capitalize(), words=words[mode]))
              for mode in NoticeMode),
        ]

    def show(self, current: Preferences) -> None:
        """Fill the form with the preferences as they are."""
        self.follow_notices.data = current.follow_notices.value if current.follow_notices_chosen else DEFAULT_CHOICE
        self.announcements.data = current.announcements
        self.time_zone.data = current.time_zone
        self.digest_hour.data = current.digest_hour
        quiet = current.quiet_hours
        self.quiet_hours_start.data, self.quiet_hours_end.data = (quiet.start, quiet.end) if quiet else ("", "")

    def change(self) -> PreferencesChange | None:
        """What the post asks to change, or None with each wrong field's error on it."""
        wanted: dict[str, object] = {"announcements": self.announcements.data}
        if _sent(self.follow_notices):
            wanted["follow_notices"] = None if self.follow_notices.data == DEFAULT_CHOICE else self.follow_notices.data
        if _sent(self.time_zone):
            wanted["time_zone"] = (self.time_zone.data or "").strip()
        if _sent(self.digest_hour):
            wanted["digest_hour"] = self.digest_hour.data
        complete = True
        if _sent(self.quiet_hours_start) or _sent(self.quiet_hours_end):
            start, end = ((field.data or "").strip() for field in (self.quiet_hours_start, self.quiet_hours_end))
            if bool(start) != bool(end):
                complete = False
                empty = self.quiet_hours_end if start else self.quiet_hours_start
                empty.errors.append(_l("Give both times, or neither."))
            else:
                wanted["quiet_hours"] = {"start": start, "end": end} if start else None
        try:
            change = PreferencesChange.model_validate(wanted)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                name = "_".join(str(part) for part in error["loc"])  # `quiet_hours.start`: quiet_hours_start
                field = getattr(self, name, self.quiet_hours_start)  # `quiet_hours` as a whole: by the start
                field.errors.append(_sentence(error["msg"].removeprefix("Value error, ")))
            return None
        return change if complete else None


def _lower(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _sent(field: Field) -> bool:
    """Whether the post had the field at all (an empty text box is sent, empty)."""
    return bool(field.raw_data)
