"""What the `notifier` commands share: settings, times, and one-line failures with exit codes.

Exit statuses: 0 done, 1 a service (broker, ledger, SMTP) failed, 2 a configuration or usage
error, 130 interrupted.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import NoReturn

import click
from microblog_plumbing.moments import parse_moment
from microblog_plumbing.settings import load_settings as _load

from notifier.settings import NotifierSettings


def load_settings() -> NotifierSettings:
    """Read the settings, or stop with one line per wrong variable (exit status 2)."""
    return _load(NotifierSettings, "notifier")


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
