"""`social events replay`: publish events kept in the outbox again."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup
from microblog_contracts import EXCHANGE
from microblog_plumbing.logs import configure_logging
from microblog_plumbing.moments import parse_moment
from microblog_plumbing.settings import load_settings

from social.outbox.schema import OutboxMissing, check_outbox
from social.relay.bootstrap import relay_engine
from social.relay.publisher import ConfirmingPublisher
from social.relay.replay import ReplayStopped, ReplayWindow, count_replayable, replay_outbox
from social.settings import SocialSettings


@click.group(cls=AppGroup)
def events() -> None:
    """The events kept in the outbox."""


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_TIME = "an ISO 8601 time (UTC unless it says otherwise), or a duration meaning that long ago (90m, 6h, 2d)"


@events.command("replay", with_appcontext=False)
@click.option("--since", required=True, callback=_moment,
              help=f"Events that happened at or after this time: {_TIME}.")
@click.option("--until", callback=_moment, help="... and at or before this time.")
@click.option("--type", "event_type", help="Only events of this type (e.g. user.followed).")
@click.option("--dry-run", is_flag=True, help="Count them; publish nothing.")
def replay_events(since: datetime, until: datetime | None, event_type: str | None, dry_run: bool) -> None:
    """Publish events kept in the outbox again, with their original ids."""
    settings = load_settings(SocialSettings, "social")
    configure_logging(settings.log_format, "warning")
    engine = relay_engine(settings.database_url)
    try:
        check_outbox(engine)
    except OutboxMissing as exc:
        click.echo(f"social events replay: {exc}", err=True)
        sys.exit(2)
    window = ReplayWindow(since=since, until=until, event_type=event_type)
    total = count_replayable(engine, window)
    if dry_run or total == 0:
        click.echo(f"{'would republish' if dry_run else 'republished'} {total} event(s)"
                   f" since {since.isoformat()}" + (f" until {until.isoformat()}" if until else ""))
        return
    publisher = ConfirmingPublisher(settings.amqp_url, EXCHANGE, name="social-events-replay")
    publisher.start()
    try:
        if not publisher.wait_ready(10):
            click.echo(f"social events replay: cannot reach RabbitMQ ({publisher.last_error})", err=True)
            sys.exit(1)
        done = replay_outbox(engine, publisher, window, batch_size=settings.relay_batch_size,
                             confirm_timeout=settings.relay_confirm_timeout,
                             on_batch=lambda n: click.echo(f"  {n}/{total}", err=True))
    except ReplayStopped as exc:
        click.echo(f"social events replay: stopped after {exc.replayed}: {exc}; run again with "
                   f"--since {exc.resume_since.isoformat()} to go on", err=True)
        sys.exit(1)
    finally:
        publisher.stop()
        engine.dispose()
    click.echo(f"republished {done} event(s); the notifier folds those it already mailed")
