"""The forms of the account pages (notification settings: :mod:`social.account.notifications_form`)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from social.accounts import EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN, InvalidEmail, normalize_email
from social.forms import address_problem
from social.translate import _l


class AddressField(StringField):  # type: ignore[misc]
    """An e-mail address, normalized as sign-up stores it (the form's `data` is the stored form)."""

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            self.data = normalize_email(str(getattr(self, "data", None) or "").strip())
        except InvalidEmail as exc:
            raise ValidationError(address_problem(exc)) from None


class ChangeEmailForm(FlaskForm):  # type: ignore[misc]
    email = AddressField(_l("New e-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class ResetPasswordRequestForm(FlaskForm):  # type: ignore[misc]
    email = AddressField(_l("E-mail"), validators=[DataRequired(), Length(max=EMAIL_MAX)])


class ResetPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(_l("Your password now"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    new_password2 = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


class DeleteAccountForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
