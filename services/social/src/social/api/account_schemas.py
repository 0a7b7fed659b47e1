"""Request and response bodies of the account endpoints: your own profile, your address, password
resets. Preferences are :mod:`social.mail.preferences`' own models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from social.accounts import EMAIL_MAX, LOCALES, PASSWORD_MAX, PASSWORD_MIN, normalize_email
from social.api.schemas import UserOut
from social.mail.preferences import Preferences

Address = Annotated[str, Field(max_length=EMAIL_MAX, json_schema_extra={"format": "email"})]
#: A link's token as mailed; longer ones are no token of ours.
Token = Annotated[str, Field(min_length=1, max_length=200)]


class MeOut(UserOut):
    """Your own profile: your address, its state and your mail preferences."""

    model_config = ConfigDict(title="MeOut")

    email: str = Field(json_schema_extra={"format": "email"})
    email_confirmed: bool = Field(description="Whether notifications can be mailed to `email`.")
    email_confirmed_at: datetime | None
    pending_email: str | None = Field(
        json_schema_extra={"format": "email"},
        description="An address waiting for its confirmation link; mail goes to `email` until then.",
    )
    email_bounced: bool = Field(description="Mail to `email` was refused: check it, then confirm it again.")
    locale: str = Field(json_schema_extra={"enum": list(LOCALES)})
    time_zone: str
    show_last_seen: bool = Field(description="Whether others see when you were last seen (`last_seen`).")
    preferences: Preferences


class EmailChange(BaseModel):
    """A new address, and your password to allow the change."""

    model_config = ConfigDict(extra="forbid", title="EmailChange")

    email: Address
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]

    @field_validator("email")
    @classmethod
    def _deliverable_shape(cls, value: str) -> str:
        return normalize_email(value)


class PasswordChange(BaseModel):
    """Your password, and the new one."""

    model_config = ConfigDict(extra="forbid", title="PasswordChange")

    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX, description="Your password now.")]
    new_password: Annotated[str, Field(
        min_length=PASSWORD_MIN, max_length=PASSWORD_MAX,
        description="Not one of the 20,000 most common passwords, nor your nickname or address.",
    )]


class AccountDeletion(BaseModel):
    """Your password, to allow deleting your account."""

    model_config = ConfigDict(extra="forbid", title="AccountDeletion")

    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


class EmailConfirmation(BaseModel):
    """The token of a confirmation link (the last part of `/confirm/<token>`)."""

    model_config = ConfigDict(extra="forbid", title="EmailConfirmation")

    token: Token


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", title="PasswordResetRequest")

    email: Address

    @field_validator("email")
    @classmethod
    def _deliverable_shape(cls, value: str) -> str:
        return normalize_email(value)


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid", title="NewPassword")

    password: Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class AcceptedOut(BaseModel):
    """A request taken: a mail may be on its way."""

    message: str
