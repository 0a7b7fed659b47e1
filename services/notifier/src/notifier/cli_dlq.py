"""`notifier dlq`: list, show, replay and purge dead letters."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
import pika.exceptions

from notifier.consumer import broker_error, connection_parameters
from notifier.dlq import DeadLetter, Filters, open_dead_letters
from notifier.moments import parse_moment
from notifier.routing import RepublishRefused
from notifier.topology import Topology

_GAVE_UP = re.compile(r"^gave up after \d+ attempts: ")


def reason_kind(reason: str) -> str:
    """The reason without its particulars: `SmtpRecipientRefused`, `unreadable: not_json`."""
    reason = _GAVE_UP.sub("", reason)
    parts = [p.strip() for p in reason.split(":")]
    return ": ".join(parts[:2]) if parts[0] in ("unreadable", "broker") else parts[0]


def _moment_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--reason", help="Only letters whose reason contains this (case-insensitive)."),
        click.option("--event-id", help="Only the letter of this event."),
        click.option("--since", callback=_moment_option, help="Dead-lettered at or after (ISO time, or e.g. 2h)."),
        click.option("--until", callback=_moment_option, help="Dead-lettered at or before."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filters(reason: str | None, event_id: str | None, since: datetime | None, until: datetime | None) -> Filters:
    return Filters(reason=reason, event_id=event_id, since=since, until=until)


def _age(moment: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"


def _connect() -> tuple[pika.URLParameters, Topology]:
    from notifier.cli import load_settings

    settings = load_settings()
    return connection_parameters(settings.amqp_url, settings.amqp_heartbeat, "notifier-dlq"), \
        Topology.from_settings(settings)


def _broker_failed(exc: Exception) -> None:
    click.echo(f"notifier dlq: RabbitMQ: {broker_error(exc)}", err=True)
    sys.exit(1)


@click.group()
def dlq() -> None:
    """Dead letters: messages that could not be mailed."""


@dlq.command("list")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Rows to print.")
def list_letters(reason: str | None, event_id: str | None, since: datetime | None,
                 until: datetime | None, limit: int) -> None:
    """Count dead letters by reason and age, and list the oldest."""
    parameters, topology = _connect()
    letters: list[DeadLetter] = []
    try:
        with open_dead_letters(parameters, topology) as browser:
            letters = list(browser.letters(_filters(reason, event_id, since, until)))
    except pika.exceptions.AMQPError as exc:
        _broker_failed(exc)
    click.echo(f"{len(letters)} dead letter(s) in {topology.dead_letter_queue}"
               + (" matching the filters" if any((reason, event_id, since, until)) else ""))
    if not letters:
        return
    click.echo("by reason:")
    for kind, count in Counter(reason_kind(letter.reason) for letter in letters).most_common():
        click.echo(f"  {count:7d}  {kind}")
    dead_times = [letter.dead_at for letter in letters if letter.dead_at is not None]
    if dead_times:
        click.echo(f"oldest {_age(min(dead_times))} ago, newest {_age(max(dead_times))} ago")
    click.echo("")
    click.echo(f"{'EVENT ID':<38} {'DEAD AT (UTC)':<20} {'TRIES':>5}  REASON")
    for letter in letters[:limit]:
        dead_at = f"{letter.dead_at:%Y-%m-%d %H:%M:%S}" if letter.dead_at else "?"
        click.echo(f"{(letter.message_id or '-')[:38]:<38} {dead_at:<20} {letter.attempts:>5}  {letter.reason[:120]}")
    if len(letters) > limit:
        click.echo(f"... and {len(letters) - limit} more (--limit)")


@dlq.command("show")
@click.argument("event_id")
def show(event_id: str) -> None:
    """Everything about the dead letter of EVENT_ID: reason, history, headers, body."""
    parameters, topology = _connect()
    found: DeadLetter | None = None
    try:
        with open_dead_letters(parameters, topology) as browser:
            found = next(iter(browser.letters(Filters(event_id=event_id), limit=1)), None)
    except pika.exceptions.AMQPError as exc:
        _broker_failed(exc)
    if found is None:
        click.echo(f"notifier dlq: no dead letter with event id {event_id}", err=True)
        sys.exit(1)
    p = found.properties
    click.echo(f"event id:      {found.message_id}")
    click.echo(f"reason:        {found.reason}")
    click.echo(f"attempts:      {found.attempts}")
    click.echo(f"first failure: {found.first_failure.isoformat() if found.first_failure else '?'}")
    click.echo(f"dead since:    {found.dead_at.isoformat() if found.dead_at else '?'}")
    click.echo(f"content type:  {p.content_type}")
    click.echo("headers:")
    for key, value in sorted((p.headers or {}).items()):
        click.echo(f"  {key}: {value!r}"[:1000])
    click.echo(f"body ({len(found.body)} bytes):")
    try:
        click.echo(json.dumps(json.loads(found.body), indent=2, ensure_ascii=False))
    except (ValueError, UnicodeDecodeError):
        click.echo(repr(found.body[:2000]) + (" ..." if len(found.body) > 2000 else ""))


@dlq.command("replay")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), help="Replay at most this many.")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; change nothing.")
def replay(reason: str | None, event_id: str | None, since: datetime | None,
           until: datetime | None, limit: int | None, dry_run: bool) -> None:
    """Send dead letters back to the work queue, attempt count reset (after a fix)."""
    parameters, topology = _connect()
    replayed = 0
    kinds: Counter[str] = Counter()
    try:
        with open_dead_letters(parameters, topology) as browser:
            for letter in browser.letters(_filters(reason, event_id, since, until), limit=limit):
                kinds[reason_kind(letter.reason)] += 1
                if not dry_run:
                    browser.replay(letter)
                replayed += 1
    except (pika.exceptions.AMQPError, RepublishRefused) as exc:
        click.echo(f"notifier dlq replay: stopped after {replayed}: {exc}; the rest stay dead-lettered", err=True)
        sys.exit(1)
    verb = "would replay" if dry_run else "replayed"
    click.echo(f"{verb} {replayed} dead letter(s) to {topology.queue}")
    for kind, count in kinds.most_common():
        click.echo(f"  {count:7d}  {kind}")


@dlq.command("purge")
@filter_options
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
def purge(reason: str | None, event_id: str | None, since: datetime | None,
          until: datetime | None, yes: bool) -> None:
    """Delete dead letters for good (asks first)."""
    parameters, topology = _connect()
    filters = _filters(reason, event_id, since, until)
    try:
        with open_dead_letters(parameters, topology) as browser:
            count = sum(1 for _ in browser.letters(filters))
        if count == 0:
            click.echo("nothing to purge")
            return
        if not yes and not click.confirm(f"Delete {count} dead letter(s) from {topology.dead_letter_queue} for good?"):
            click.echo("nothing purged")
            return
        purged = 0
        with open_dead_letters(parameters, topology) as browser:
            for letter in browser.letters(filters):
                browser.purge(letter)
                purged += 1
    except pika.exceptions.AMQPError as exc:
        _broker_failed(exc)
    click.echo(f"purged {purged} dead letter(s)")
