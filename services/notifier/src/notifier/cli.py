"""`notifier`: the operator's commands."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import click
import structlog
from pydantic import ValidationError

from notifier.errors import NotifierError, SmtpAuthRefused, SmtpTlsError, SmtpUnavailable
from notifier.logs import configure_logging
from notifier.mime import Sender, build_plain
from notifier.render import TemplatesMissing
from notifier.settings import NotifierSettings
from notifier.signals import on_stop_signals
from notifier.transport import SmtpConfig, SmtpTransport

log = structlog.get_logger("notifier")


def load_settings() -> NotifierSettings:
    """Read the settings, or stop with one line per wrong variable (exit status 2)."""
    try:
        return NotifierSettings()
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            click.echo(f"notifier: configuration error: {line}", err=True)
        sys.exit(2)


def describe_validation_error(exc: ValidationError) -> list[str]:
    """`VARIABLE: what is wrong (got 'value')`, without ever echoing a secret."""
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]).upper()
        message = err["msg"].removeprefix("Value error, ")
        secret = any(word in name for word in ("PASSWORD", "SECRET", "URL", "KEY"))
        shown = "" if secret or not name or err["type"] == "value_error" else f" (got {err.get('input')!r})"
        lines.append(f"{name}: {message}{shown}" if name else message)
    return lines


@click.group()
def main() -> None:
    """Microblog notifier: sends the follower e-mail for `user.followed` events."""


@main.command()
def run() -> None:
    """Consume events and send mail until SIGTERM or Ctrl-C."""
    from notifier.bootstrap import build_notifier

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        notifier = build_notifier(settings)
    except (TemplatesMissing, NotifierError) as exc:
        click.echo(f"notifier: {exc}", err=True)
        sys.exit(2)

    def on_signal(name: str) -> None:
        if notifier.consumer._stop.is_set():
            # The second signal: an operator who will not wait. Unacked messages are redelivered.
            click.echo("notifier: stopping at once", err=True)
            os._exit(130)
        log.info("stopping", signal=name, note="finishing the messages in hand")
        notifier.stop()

    on_stop_signals(on_signal)
    log.info("notifier_starting", queue=notifier.topology.queue, smtp=f"{settings.mail_server}:{settings.mail_port}")
    notifier.run()


def _add_subcommands() -> None:
    from notifier.cli_dlq import dlq
    from notifier.cli_replay import replay

    main.add_command(dlq)
    main.add_command(replay)


_HINTS = {
    SmtpAuthRefused: "check MAIL_USERNAME and MAIL_PASSWORD",
    SmtpTlsError: "check MAIL_USE_TLS / MAIL_USE_SSL against what the server on MAIL_PORT speaks",
}


@main.command("send-test")
@click.option("--to", "to", required=True, help="Address to send the test mail to.")
def send_test(to: str) -> None:
    """Send one test mail through the configured SMTP server and print its answer."""
    settings = load_settings()
    configure_logging(settings.log_format, "warning")
    sender = Sender.parse(settings.sender)
    config = SmtpConfig.from_settings(settings)
    now = datetime.now(UTC)
    transport = SmtpTransport(config)
    try:
        message = build_plain(
            sender=sender, recipients=[to], subject="[microblog] test mail",
            text=f"This is a test mail from the Microblog notifier, sent {now:%Y-%m-%d %H:%M:%S} UTC\n"
                 f"through {config.host}:{config.port}.\n",
            message_id=f"<test.{now.timestamp():.6f}@{sender.address.rsplit('@', 1)[1]}>", date=now,
        )
        reply = transport.send(sender.address, [to], message)
    except NotifierError as exc:
        where = f"{config.host}:{config.port}"
        hint = next((h for cls, h in _HINTS.items() if isinstance(exc, cls)), "")
        if isinstance(exc, SmtpUnavailable) and "timed out" in str(exc):
            hint = "is MAIL_PORT right, and does the server want MAIL_USE_SSL?"
        click.echo(f"send-test: {where}: {exc}" + (f" ({hint})" if hint else ""), err=True)
        sys.exit(1)
    finally:
        transport.close()
    click.echo(f"sent to {to} via {config.host}:{config.port}: {reply}")


_add_subcommands()
