"""`notifier run`: consume events and send mail until SIGTERM or Ctrl-C."""

from __future__ import annotations

import os

import click

from notifier.cli.common import fail, load_settings


@click.command()
def run() -> None:
    """Consume events and send mail until SIGTERM or Ctrl-C."""
    import structlog
    from microblog_plumbing.logs import configure_logging
    from microblog_plumbing.signals import on_stop_signals

    from notifier.bootstrap import build_notifier
    from notifier.errors import NotifierError
    from notifier.render import TemplatesMissing

    settings = load_settings(sends_mail=True)
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("notifier")
    try:
        notifier = build_notifier(settings)
    except (TemplatesMissing, NotifierError) as exc:
        fail("notifier", str(exc), 2)

    def on_signal(name: str) -> None:
        if notifier.stopping:
            # The second signal: an operator who will not wait. Unacked messages are redelivered.
            click.echo("notifier: stopping at once", err=True)
            os._exit(130)
        log.info("stopping", signal=name, note="finishing the messages in hand")
        notifier.stop()

    on_stop_signals(on_signal)
    log.info("notifier_starting", queue=notifier.topology.queue, smtp=f"{settings.mail_server}:{settings.mail_port}")
    notifier.run()
