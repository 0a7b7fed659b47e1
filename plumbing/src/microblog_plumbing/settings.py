"""Reading a process's settings once at start, and saying in one line per variable what is wrong.

Each service has one typed `BaseSettings` of its own; the rules they share (how a list is written,
what an AMQP or database URL must look like) and the way a wrong setting is reported live here.
"""

from __future__ import annotations

import json
import sys
from typing import TypeVar

import click
from pydantic import ValidationError
from pydantic_settings import BaseSettings

SettingsT = TypeVar("SettingsT", bound=BaseSettings)

#: Words in a variable's name that mean its value must never be echoed back.
_SECRET_WORDS = ("PASSWORD", "SECRET", "URL", "KEY", "TOKEN")


def split_list(value: object) -> object:
    """A list setting as people write it: a JSON list (what pydantic-settings users expect) or the
    comma-separated form the README shows. Anything else is left for the field's own validation."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON list: {exc.msg} (or write the items separated by commas)") from None
        return [str(item).strip() for item in parsed] if isinstance(parsed, list) else parsed
    return [part.strip() for part in text.split(",") if part.strip()]


def describe_validation_error(exc: ValidationError) -> list[str]:
    """`VARIABLE: what is wrong (got 'value')`, one line per error, never echoing a secret."""
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]).upper()
        message = err["msg"].removeprefix("Value error, ")
        secret = any(word in name for word in _SECRET_WORDS)
        shown = "" if secret or not name or err["type"] == "value_error" else f" (got {err.get('input')!r})"
        lines.append(f"{name}: {message}{shown}" if name else message)
    return lines


def load_settings(settings_class: type[SettingsT], program: str) -> SettingsT:
    """Read `settings_class` from the environment, or stop with one line per wrong variable
    (`program: configuration error: ...`) and exit status 2."""
    try:
        return settings_class()
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            click.echo(f"{program}: configuration error: {line}", err=True)
        sys.exit(2)
