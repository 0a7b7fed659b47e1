"""`social`: serve the web app, run the outbox relay, upgrade the database, replay events."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click
import structlog
from flask import Flask
from flask.cli import FlaskGroup
from microblog_contracts import EXCHANGE
from microblog_plumbing.logs import configure_logging
from microblog_plumbing.moments import parse_moment
from microblog_plumbing.settings import load_settings
from microblog_plumbing.signals import on_stop_signals

from social.outbox.schema import OutboxMissing, check_outbox
from social.relay.bootstrap import build_relay, relay_engine
from social.relay.publisher import ConfirmingPublisher
from social.relay.replay import ReplayStopped, ReplayWindow, count_replayable, replay_outbox
from social.settings import SocialSettings

log = structlog.get_logger("social")


def _configured() -> SocialSettings:
    """The settings, read once (or exit status 2 with one line per wrong variable), and logging set up."""
    settings = load_settings(SocialSettings, "social")
    configure_logging(settings.log_format, settings.log_level)
    return settings


def _web_app(settings: SocialSettings | None = None) -> Flask:
    """The web app, for `serve` and the Flask commands (`social db upgrade`)."""
    from social.app import create_app  # the web app's libraries: only the commands that serve it load them

    return create_app(settings or _configured())


@click.group(cls=FlaskGroup, create_app=_web_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Microblog social service."""


@main.command(with_appcontext=False)
def serve() -> None:
    """Serve the web app and API with gunicorn on SOCIAL_BIND."""
    from gunicorn.app.base import BaseApplication

    from social.extensions import db
    from social.secrecy import access_logger_class

    settings = _configured()
    app = _web_app(settings)

    def post_fork(_server: Any, _worker: Any) -> None:
        with app.app_context():
            db.engine.dispose(close=False)  # no connection crosses a fork

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": settings.social_bind,
                "workers": settings.social_workers,
                "worker_class": "gthread",
                "threads": settings.social_threads,
                "accesslog": "-",
                "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
                # Tokens in link paths (/confirm/<token>...) are written as [redacted].
                "logger_class": access_logger_class(),
                "graceful_timeout": 20,
                "post_fork": post_fork,
                "proc_name": "social-web",
                # gunicorn's runtime control socket sits at one path per user: two servers on a
                # host would fight over it, and nothing here uses it.
                "control_socket_disable": True,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    log.info("serving", bind=settings.social_bind, base_url=settings.base_url, workers=settings.social_workers)
    Server().run()


@main.command(with_appcontext=False)
def relay() -> None:
    """Publish outbox events to RabbitMQ until SIGTERM or Ctrl-C."""
    service = build_relay(_configured())
    try:
        service.check_outbox()
    except OutboxMissing as exc:
        click.echo(f"social relay: {exc}", err=True)
        sys.exit(2)

    def on_signal(name: str) -> None:
        log.info("stopping", signal=name)
        service.stop()

    on_stop_signals(on_signal)
    service.run()


@main.group()
def users() -> None:
    """Accounts, as an operator sees them."""


@users.command("confirm")
@click.argument("nickname")
def confirm_user(nickname: str) -> None:
    """Confirm NICKNAME's address without a mail (lifts a bounce too)."""
    from social import users as accounts
    from social.dbtypes import utcnow
    from social.mail.confirmations import confirm_without_mail

    user = accounts.find_by_nickname(nickname)
    if user is None:
        click.echo(f"social users confirm: no user is called {nickname!r}", err=True)
        sys.exit(1)
    if user.email_confirmed and not user.email_bounced:
        click.echo(f"{user.nickname}'s address {user.email} is confirmed already")
        return
    confirm_without_mail(user, now=utcnow())
    click.echo(f"confirmed {user.nickname}'s address {user.email}"
               + (f" (a change to {user.pending_email} still waits for its link)" if user.pending_email else ""))


@main.group()
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
