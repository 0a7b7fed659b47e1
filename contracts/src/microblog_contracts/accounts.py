"""Mail a user asks for about their own account: confirming an address, resetting a password,
hearing that the address was changed. Transactional: sent whatever the preferences say, and
never after its link has expired.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, HttpUrl

from microblog_contracts.addresses import MailAddress
from microblog_contracts.envelope import Envelope
from microblog_contracts.profiles import MailProfile

EMAIL_CONFIRMATION_REQUESTED: Final = "email.confirmation_requested"
EMAIL_CONFIRMATION_REQUESTED_V1_SCHEMA: Final = "urn:microblog:schema:email.confirmation_requested:1"
PASSWORD_RESET_REQUESTED: Final = "password.reset_requested"  # noqa: S105 - an event type, not a secret
PASSWORD_RESET_REQUESTED_V1_SCHEMA: Final = "urn:microblog:schema:password.reset_requested:1"  # noqa: S105
EMAIL_CHANGE_REQUESTED: Final = "email.change_requested"
EMAIL_CHANGE_REQUESTED_V1_SCHEMA: Final = "urn:microblog:schema:email.change_requested:1"
EMAIL_SIGNUP_ATTEMPTED: Final = "email.signup_attempted"
EMAIL_SIGNUP_ATTEMPTED_V1_SCHEMA: Final = "urn:microblog:schema:email.signup_attempted:1"


class EmailConfirmationRequestedData(BaseModel):
    """A link to confirm `address`: at sign-up, after a change of address, or asked for again."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profile: MailProfile
    #: The address to confirm: the new one during a change, which the profile does not hold yet.
    address: MailAddress
    confirm_url: HttpUrl
    expires_at: AwareDatetime
    purpose: Literal["signup", "change", "again"]


class EmailConfirmationRequested(Envelope[EmailConfirmationRequestedData]):
    type: Literal["email.confirmation_requested"] = EMAIL_CONFIRMATION_REQUESTED
    dataschema: Literal["urn:microblog:schema:email.confirmation_requested:1"] = EMAIL_CONFIRMATION_REQUESTED_V1_SCHEMA


class PasswordResetRequestedData(BaseModel):
    """A link to set a new password, asked for by whoever knows the address."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profile: MailProfile
    reset_url: HttpUrl
    expires_at: AwareDatetime


class PasswordResetRequested(Envelope[PasswordResetRequestedData]):
    type: Literal["password.reset_requested"] = PASSWORD_RESET_REQUESTED
    dataschema: Literal["urn:microblog:schema:password.reset_requested:1"] = PASSWORD_RESET_REQUESTED_V1_SCHEMA


class EmailChangeRequestedData(BaseModel):
    """The user asked to move their mail to `new_address`: the old one is told (in case it was not
    them) and keeps getting mail until the new one is confirmed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profile: MailProfile
    old_address: MailAddress
    new_address: MailAddress
    requested_at: AwareDatetime


class EmailChangeRequested(Envelope[EmailChangeRequestedData]):
    type: Literal["email.change_requested"] = EMAIL_CHANGE_REQUESTED
    dataschema: Literal["urn:microblog:schema:email.change_requested:1"] = EMAIL_CHANGE_REQUESTED_V1_SCHEMA


class EmailSignupAttemptedData(BaseModel):
    """Someone signed up with an address that has an account. Sign-up answers the same either way
    (it must not tell who has an account); the address's owner is told instead, with a link to reset
    the password in case they forgot they had one."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: The account that has the address.
    profile: MailProfile
    attempted_at: AwareDatetime
    reset_url: HttpUrl
    #: When the reset link stops working: the mail is not sent after.
    expires_at: AwareDatetime


class EmailSignupAttempted(Envelope[EmailSignupAttemptedData]):
    type: Literal["email.signup_attempted"] = EMAIL_SIGNUP_ATTEMPTED
    dataschema: Literal["urn:microblog:schema:email.signup_attempted:1"] = EMAIL_SIGNUP_ATTEMPTED_V1_SCHEMA
