"""The profile editing form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

from social.accounts import ABOUT_ME_MAX, time_zone_names
from social.forms import NoControlCharacters, locale_choices


class EditProfileForm(FlaskForm):  # type: ignore[misc]
    about_me = TextAreaField(
        "About me", validators=[Optional(), Length(max=ABOUT_ME_MAX), NoControlCharacters()]
    )
    locale = SelectField("Language", choices=locale_choices())
    time_zone = SelectField("Time zone", choices=time_zone_names, description="For the times in your mail.")
