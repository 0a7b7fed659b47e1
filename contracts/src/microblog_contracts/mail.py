"""Events the notifier publishes about the mail it sent or did not send: the first events that
flow from the notifier to social, on the notifier's own exchange.

Social keeps a user's recent mail from `mail.activity` (so it can tell them why a mail did not
come) and stops offering a refused address from `mail.bounced`; it never reads the notifier's
database.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from microblog_contracts.addresses import MailAddress
from microblog_contracts.envelope import Envelope, EventId
from microblog_contracts.profiles import UserId

#: The durable topic exchange the notifier publishes to; the routing key is the event type.
NOTIFIER_EXCHANGE: Final = "notifier.events"
#: CloudEvents `source` of everything the notifier emits.
NOTIFIER_SOURCE: Final = "/microblog/notifier"

MAIL_ACTIVITY: Final = "mail.activity"
MAIL_ACTIVITY_V1_SCHEMA: Final = "urn:microblog:schema:mail.activity:1"
MAIL_BOUNCED: Final = "mail.bounced"
MAIL_BOUNCED_V1_SCHEMA: Final = "urn:microblog:schema:mail.bounced:1"

#: A mail kind's name (`follower_email`) or a stable reason code (`daily_cap`, `smtp_unavailable`).
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")]


class MailOutcome(enum.StrEnum):
    SENT = "sent"  # the SMTP server accepted it
    SKIPPED = "skipped"  # deliberately not sent: `reason` says why
    FAILED = "failed"  # it could not be sent and will not be retried: `reason` is the failure


class MailActivityEntry(BaseModel):
    """What became of one mail."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: Stable for one mail (its event, kind and recipient): a consumer keeps the latest per id.
    id: Annotated[str, Field(min_length=1, max_length=300)]
    user_id: UserId | None = None
    kind: Code
    event_id: EventId
    outcome: MailOutcome
    reason: Code | None = None
    at: AwareDatetime
    #: For a notice gathered into another mail: when that mail went.
    merged_into_at: AwareDatetime | None = None


class MailActivityData(BaseModel):
    """The `data` of `mail.activity`, version 1: the outcomes of a batch of mails."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    entries: Annotated[list[MailActivityEntry], Field(min_length=1, max_length=500)]


class MailActivity(Envelope[MailActivityData]):
    source: str = NOTIFIER_SOURCE
    type: Literal["mail.activity"] = MAIL_ACTIVITY
    dataschema: Literal["urn:microblog:schema:mail.activity:1"] = MAIL_ACTIVITY_V1_SCHEMA


class MailBouncedData(BaseModel):
    """The SMTP server refused `address` for good (a 5xx for the recipient): the notifier has
    stopped sending notifications to it until the user confirms it again or changes it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: UserId | None = None
    address: MailAddress
    reply: Annotated[str, Field(max_length=500)]
    event_id: EventId
    bounced_at: AwareDatetime


class MailBounced(Envelope[MailBouncedData]):
    source: str = NOTIFIER_SOURCE
    type: Literal["mail.bounced"] = MAIL_BOUNCED
    dataschema: Literal["urn:microblog:schema:mail.bounced:1"] = MAIL_BOUNCED_V1_SCHEMA
