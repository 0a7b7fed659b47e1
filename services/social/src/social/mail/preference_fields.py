"""The values a preference may take, each checked once with a message naming what is wanted:
an IANA time zone, the hour of the daily digest, quiet hours. The API and the settings page both
read them through :class:`social.mail.preferences.PreferencesChange`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from social.accounts import is_time_zone, time_zone_names

#: The contract's rule for a time of day (:data:`microblog_contracts.profiles.TimeOfDay`).
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_time_of_day = re.compile(TIME_OF_DAY_PATTERN.strip("^$"))


def _known_time_zone(name: str) -> str:
    if not is_time_zone(name):
        raise ValueError("not a time zone we know: give an IANA name such as Europe/Berlin or America/New_York")
    return name


class _TimeZoneNamesSchema:
    """The zones' names as the schema's enum, listed when a document is made, not at import
    (listing them reads the tz database)."""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = list(time_zone_names())
        return schema


def _whole_number(value: object) -> object:
    # JSON does not tell 8 from 8.0 and JSON Schema counts both as integers; strict int would not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _an_hour(hour: int) -> int:
    if not 0 <= hour <= 23:
        raise ValueError("an hour from 0 to 23")
    return hour


def _a_time_of_day(value: str) -> str:
    if not _time_of_day.fullmatch(value):
        raise ValueError("a time of day as HH:MM, 24-hour, such as 22:00")
    return value


#: An IANA time zone name zoneinfo knows, such as `Europe/Berlin`.
TimeZoneName = Annotated[StrictStr, AfterValidator(_known_time_zone), _TimeZoneNamesSchema()]
#: The hour of the day, in the user's time zone, the daily digest goes out.
DigestHour = Annotated[
    StrictInt,
    BeforeValidator(_whole_number),
    AfterValidator(_an_hour),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 23}),
]
#: `HH:MM`, 24-hour.
TimeOfDay = Annotated[
    StrictStr, AfterValidator(_a_time_of_day), WithJsonSchema({"type": "string", "pattern": TIME_OF_DAY_PATTERN})
]


class QuietHours(BaseModel):
    """Hours, in your time zone, when notices wait and then go out gathered; `end` before `start`
    spans midnight (`22:00` to `07:00`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="QuietHours")

    start: TimeOfDay
    end: TimeOfDay = Field(description="Differs from `start`.")

    @field_validator("end")
    @classmethod
    def _not_of_no_length(cls, end: str, info: ValidationInfo) -> str:
        if end == info.data.get("start"):
            raise ValueError("must differ from the start (to have no quiet hours, leave both empty or send null)")
        return end
