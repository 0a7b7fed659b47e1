"""The profile editing form. The time zone is a mail preference, set on `/settings/notifications`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from social.accounts import ABOUT_ME_MAX
from social.forms import NoControlCharacters, locale_choices


class EditProfileForm(FlaskForm):  # type: ignore[misc]
    about_me = TextAreaField(
        "About me", validators=[Optional(), Length(max=ABOUT_ME_MAX), NoControlCharacters()]
    )
    locale = SelectField("Language", choices=locale_choices())
    show_last_seen = BooleanField("Show others when I was last here")
