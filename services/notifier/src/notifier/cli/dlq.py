"""`notifier dlq`: list, show, replay and purge dead letters."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from notifier.cli.common import fail, load_settings, moment_option, shown

if TYPE_CHECKING:
    from notifier.broker import Brokers
    from notifier.dlq import Filters
    from notifier.topology import Topology

PROGRAM = "notifier dlq"
#: The AMQP properties `dlq show` prints (the headers follow on their own).
_PROPERTIES = ("content_type", "content_encoding", "delivery_mode", "priority", "correlation_id", "reply_to",
               "expiration", "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id")


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--reason", help="Only letters whose failure kind or reason contains this (any case)."),
        click.option("--event-id", help="Only the letter of this event."),
        click.option("--since", callback=moment_option, help="Dead-lettered at or after (ISO time, or e.g. 2h)."),
        click.option("--until", callback=moment_option, help="Dead-lettered at or before."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filters(reason: str | None, event_id: str | None, since: datetime | None, until: datetime | None) -> Filters:
    from notifier.dlq import Filters

    return Filters(reason=reason, event_id=event_id, since=since, until=until)


def _connect() -> tuple[Brokers, Topology, str]:
    """The brokers, the topology, and the notifier's own AMQP user (its copies' `user_id`)."""
    from notifier.bootstrap import build_topology
    from notifier.broker import brokers_for

    settings = load_settings()
    brokers = brokers_for(settings.amqp_url, settings.amqp_heartbeat, "notifier-dlq")
    return brokers, build_topology(settings), settings.amqp_user


def _broker_errors() -> tuple[type[BaseException], ...]:
    from notifier.broker import CONNECTION_ERRORS
    from notifier.errors import BrokerUnavailable

    return (*CONNECTION_ERRORS, BrokerUnavailable)


def _broker_failed(exc: BaseException) -> NoReturn:
    from notifier.broker import translate

    fail(PROGRAM, f"RabbitMQ: {translate(exc)}")


@click.group()
def dlq() -> None:
    """Dead letters: messages that could not be mailed."""


@dlq.command("list")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Rows to print.")
def list_letters(reason: str | None, event_id: str | None, since: datetime | None,
                 until: datetime | None, limit: int) -> None:
    """Count dead letters by failure kind and age, and list the oldest."""
    from microblog_plumbing.moments import format_age

    from notifier.dlq import DeadLetter, open_dead_letters

    brokers, topology, user = _connect()
    letters: list[DeadLetter] = []
    try:
        with open_dead_letters(brokers, topology, user) as browser:
            letters = list(browser.letters(_filters(reason, event_id, since, until)))
    except _broker_errors() as exc:
        _broker_failed(exc)
    click.echo(f"{len(letters)} dead letter(s) in {topology.dead_letter_queue}"
               + (" matching the filters" if any((reason, event_id, since, until)) else ""))
    if not letters:
        return
    click.echo("by reason:")
    for kind, count in Counter(letter.failure for letter in letters).most_common():
        click.echo(f"  {count:7d}  {shown(kind)}")
    dead_times = [letter.dead_at for letter in letters if letter.dead_at is not None]
    if dead_times:
        now = datetime.now(dead_times[0].tzinfo)
        click.echo(f"oldest {format_age((now - min(dead_times)).total_seconds())} ago, "
                   f"newest {format_age((now - max(dead_times)).total_seconds())} ago")
    click.echo("")
    click.echo(f"{'EVENT ID':<38} {'DEAD AT (UTC)':<20} {'TRIES':>5}  {'FAILURE':<22} REASON")
    for letter in letters[:limit]:
        dead_at = f"{letter.dead_at:%Y-%m-%d %H:%M:%S}" if letter.dead_at else "?"
        click.echo(f"{shown(letter.message_id or '-')[:38]:<38} {dead_at:<20} {letter.attempts:>5}  "
                   f"{shown(letter.failure)[:22]:<22} {shown(letter.reason)[:100]}")
    if len(letters) > limit:
        click.echo(f"... and {len(letters) - limit} more (--limit)")


@dlq.command("show")
@click.argument("event_id")
def show(event_id: str) -> None:
    """Everything about the dead letter of EVENT_ID: reason, history, headers, body."""
    from notifier.dlq import DeadLetter, Filters, open_dead_letters

    brokers, topology, user = _connect()
    found: DeadLetter | None = None
    try:
        with open_dead_letters(brokers, topology, user) as browser:
            found = next(iter(browser.letters(Filters(event_id=event_id), limit=1)), None)
    except _broker_errors() as exc:
        _broker_failed(exc)
    if found is None:
        fail(PROGRAM, f"no dead letter with event id {event_id}")
    p = found.properties
    click.echo(f"event id:      {shown(found.message_id)}")
    click.echo(f"failure:       {shown(found.failure)}")
    click.echo(f"reason:        {shown(found.reason)}")
    click.echo(f"mail kind:     {shown(found.mail_kind or '-')}")
    click.echo(f"attempts:      {found.attempts}")
    click.echo(f"first failure: {found.first_failure.isoformat() if found.first_failure else '?'}")
    click.echo(f"dead since:    {found.dead_at.isoformat() if found.dead_at else '?'}")
    click.echo("properties:")
    for name in _PROPERTIES:
        value = getattr(p, name, None)
        if value is not None:
            click.echo(f"  {name}: {shown(value)}"[:1000])
    click.echo("headers:")
    for key, value in sorted((p.headers or {}).items()):
        click.echo(f"  {shown(key)}: {shown(repr(value))}"[:1000])
    click.echo(f"body ({len(found.body)} bytes):")
    try:
        pretty = json.dumps(json.loads(found.body), indent=2, ensure_ascii=False)
        click.echo("\n".join(shown(line) for line in pretty.split("\n")))  # JSON holds no raw newline but these
    except (ValueError, UnicodeDecodeError, RecursionError):
        click.echo(repr(found.body[:2000]) + (" ..." if len(found.body) > 2000 else ""))


@dlq.command("replay")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), help="Replay at most this many.")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; change nothing.")
def replay(reason: str | None, event_id: str | None, since: datetime | None,
           until: datetime | None, limit: int | None, dry_run: bool) -> None:
    """Send dead letters back to the work queue, attempt count reset (after a fix).

    Letters refused as untrusted_publisher stay unless --reason is that kind: a replay is the
    notifier's own copy, which it trusts."""
    from notifier.admission import UNTRUSTED_PUBLISHER
    from notifier.dlq import open_dead_letters

    brokers, topology, user = _connect()
    vouched = (reason or "").lower() == UNTRUSTED_PUBLISHER
    replayed = untrusted = 0
    kinds: Counter[str] = Counter()
    try:
        with open_dead_letters(brokers, topology, user) as browser:
            for letter in browser.letters(_filters(reason, event_id, since, until)):
                if letter.failure == UNTRUSTED_PUBLISHER and not vouched:
                    untrusted += 1
                    continue
                if limit is not None and replayed >= limit:
                    break
                kinds[letter.failure] += 1
                if not dry_run:
                    browser.replay(letter)
                replayed += 1
    except _broker_errors() as exc:
        fail(f"{PROGRAM} replay", f"stopped after {replayed}: {exc}; the rest stay dead-lettered")
    verb = "would replay" if dry_run else "replayed"
    click.echo(f"{verb} {replayed} dead letter(s) to {topology.queue}")
    for kind, count in kinds.most_common():
        click.echo(f"  {count:7d}  {shown(kind)}")
    if untrusted:
        click.echo(f"left {untrusted} {UNTRUSTED_PUBLISHER} letter(s) dead-lettered: check them with `notifier dlq "
                   f"show`, then replay them with --reason {UNTRUSTED_PUBLISHER} if you vouch for them")


@dlq.command("purge")
@filter_options
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
def purge(reason: str | None, event_id: str | None, since: datetime | None,
          until: datetime | None, yes: bool) -> None:
    """Delete dead letters for good (asks first)."""
    from notifier.dlq import open_dead_letters

    brokers, topology, user = _connect()
    filters = _filters(reason, event_id, since, until)
    purged = 0
    try:
        with open_dead_letters(brokers, topology, user) as browser:
            count = sum(1 for _ in browser.letters(filters))
        if count == 0:
            click.echo("nothing to purge")
            return
        if not yes and not click.confirm(f"Delete {count} dead letter(s) from {topology.dead_letter_queue} for good?"):
            click.echo("nothing purged")
            return
        with open_dead_letters(brokers, topology, user) as browser:
            for letter in browser.letters(filters):
                browser.purge(letter)
                purged += 1
    except _broker_errors() as exc:
        _broker_failed(exc)
    click.echo(f"purged {purged} dead letter(s)")
