"""What the `notifier` commands share: settings, times, and one-line failures with exit codes.

Exit statuses: 0 done, 1 a service (broker, ledger, SMTP) failed, 2 a configuration or usage
error, 130 interrupted.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

import click
from microblog_plumbing.moments import parse_moment

if TYPE_CHECKING:
    from notifier.settings import NotifierSettings

#: Characters a terminal acts on rather than shows: controls (ESC starts every ANSI sequence),
#: format characters (bidi overrides, zero widths), line and paragraph separators.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})


def load_settings(*, sends_mail: bool = False) -> NotifierSettings:
    """Read the settings, or stop with one line per wrong variable (exit status 2). A command
    that `sends_mail` also needs a From address (MAIL_DEFAULT_SENDER or ADMINS)."""
    from microblog_plumbing.settings import load_settings as _load

    from notifier.settings import NO_SENDER, NotifierSettings

    settings = _load(NotifierSettings, "notifier")
    if sends_mail and not settings.has_sender:
        fail("notifier", f"configuration error: {NO_SENDER}", 2)
    return settings


def shown(value: object) -> str:
    """`value` as text safe to print to a terminal: what a message's publisher wrote (ids, headers,
    bodies) may hold escape sequences, so every control or format character is written as its
    escape (`\\x1b`, `\\u202e`), never raw."""
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def moment_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """A click callback for --since/--until: an ISO time, or a duration meaning that long ago."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def fail(program: str, message: str, status: int = 1) -> NoReturn:
    """Say what went wrong in one line on stderr and exit."""
    click.echo(f"{program}: {message}", err=True)
    sys.exit(status)
