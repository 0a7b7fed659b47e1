"""The sign-up and login forms; they check what the database can tell, too."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from social.accounts import (
    ABOUT_ME_MAX,
    DEFAULT_LOCALE,
    EMAIL_MAX,
    NICKNAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    InvalidEmail,
    InvalidNickname,
    normalize_email,
    normalize_nickname,
)
from social.forms import NoControlCharacters, address_problem, locale_choices
from social.passwords import password_problem
from social.translate import _l
from social.users import nickname_taken


class RegistrationForm(FlaskForm):  # type: ignore[misc]
    nickname = StringField(_l("Nickname"), validators=[DataRequired(), Length(max=NICKNAME_MAX)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    about_me = TextAreaField(
        _l("About me"), validators=[Optional(), Length(max=ABOUT_ME_MAX), NoControlCharacters()]
    )
    locale = SelectField(_l("Language"), choices=locale_choices(), default=DEFAULT_LOCALE)

    def validate_nickname(self, field: Field) -> None:
        try:
            nickname = normalize_nickname(field.data.strip())
        except InvalidNickname as exc:
            raise ValidationError(str(exc)) from None
        if nickname_taken(nickname):
            raise ValidationError(_l("That nickname is taken, or looks like one that is; please pick another."))

    def validate_email(self, field: Field) -> None:
        # Whether the address has an account is never said here: its owner gets a mail instead.
        try:
            normalize_email(field.data.strip())
        except InvalidEmail as exc:
            raise ValidationError(address_problem(exc)) from None

    def validate_password(self, field: Field) -> None:
        if field.errors:  # too short or too long, said once already (not twice in other words)
            return
        problem = password_problem(field.data or "", nickname=(self.nickname.data or "").strip(),
                                   email=(self.email.data or "").strip())
        if problem is not None:
            raise ValidationError(problem)


class LoginForm(FlaskForm):  # type: ignore[misc]
    nickname = StringField(_l("Nickname"), validators=[DataRequired(), Length(max=NICKNAME_MAX)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember_me = BooleanField(_l("Remember me"))
