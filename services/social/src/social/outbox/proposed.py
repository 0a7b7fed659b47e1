"""Events social records whose contracts are not in `microblog_contracts` yet.

Written exactly as proposed for `contracts/` (issue 13): once the contracts package has them,
import them from there and delete this module. Until then the relay publishes them like any
other event (the event log keeps them) and no notifier queue is bound to their types.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from microblog_contracts import MailProfile
from microblog_contracts.envelope import Envelope
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

EMAIL_SIGNUP_ATTEMPTED: Final = "email.signup_attempted"
EMAIL_SIGNUP_ATTEMPTED_V1_SCHEMA: Final = "urn:microblog:schema:email.signup_attempted:1"
USER_DELETED: Final = "user.deleted"
USER_DELETED_V1_SCHEMA: Final = "urn:microblog:schema:user.deleted:1"


class EmailSignupAttemptedData(BaseModel):
    """Someone signed up with an address that has an account: its owner is told (transactional),
    with a link to reset the password in case they forgot it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profile: MailProfile
    attempted_at: AwareDatetime
    reset_url: HttpUrl
    #: When the reset link stops working (an hour after the attempt).
    expires_at: AwareDatetime


class EmailSignupAttempted(Envelope[EmailSignupAttemptedData]):
    type: Literal["email.signup_attempted"] = EMAIL_SIGNUP_ATTEMPTED
    dataschema: Literal["urn:microblog:schema:email.signup_attempted:1"] = EMAIL_SIGNUP_ATTEMPTED_V1_SCHEMA


class UserDeletedData(BaseModel):
    """The user deleted their account: forget everything about them (address, ledger rows,
    waiting notices, suppression)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: Annotated[int, Field(gt=0, le=2**63 - 1)]
    deleted_at: AwareDatetime


class UserDeleted(Envelope[UserDeletedData]):
    type: Literal["user.deleted"] = USER_DELETED
    dataschema: Literal["urn:microblog:schema:user.deleted:1"] = USER_DELETED_V1_SCHEMA
