"""The CloudEvents 1.0 envelope every Microblog event travels in."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

#: The durable topic exchange social publishes to; the routing key is the event type.
EXCHANGE = "social.events"
#: CloudEvents `source` of everything the social service emits.
SOURCE = "/microblog/social"
#: Bodies larger than this are not events we produce; consumers refuse them unread.
MAX_EVENT_BYTES = 64 * 1024

#: Event ids are UUIDs in practice; the pattern keeps them safe to reuse in headers and file names.
EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]

DataT = TypeVar("DataT", bound=BaseModel)


class Envelope(BaseModel, Generic[DataT]):
    """CloudEvents 1.0 attributes around a typed `data` payload.

    Unknown attributes and fields are ignored, so producers can grow the contract without
    breaking consumers that do not know the new fields yet.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: EventId = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str = SOURCE
    type: str
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    data: DataT

    def to_json_bytes(self) -> bytes:
        """The structured-mode JSON body, as published."""
        return self.model_dump_json().encode()


class DecodeFailure(enum.StrEnum):
    """Why a message body is not a readable event; stable strings, used in dead-letter headers."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_CLOUDEVENT = "not_cloudevent"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_VERSION = "unknown_version"
    INVALID_DATA = "invalid_data"


class EventDecodeError(ValueError):
    """A message body that is not an event this contract can read."""

    def __init__(self, failure: DecodeFailure, detail: str) -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail
