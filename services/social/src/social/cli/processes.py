"""`social serve` (the web app under gunicorn) and `social relay` (outbox out, inbox in)."""

from __future__ import annotations

import sys
from typing import Any

import click
import structlog
from microblog_plumbing.signals import on_stop_signals

from social.cli import configured, web_app
from social.outbox.schema import OutboxMissing
from social.relay.bootstrap import build_relay

log = structlog.get_logger("social")


@click.command()
def serve() -> None:
    """Serve the web app and API with gunicorn on SOCIAL_BIND."""
    from gunicorn.app.base import BaseApplication

    from social.extensions import db
    from social.secrecy import access_logger_class
    from social.serving import BufferedWsgi

    settings = configured()
    app = web_app(settings)
    # Requests are read whole by the event loop before a thread sees them: slow clients cost a
    # socket, not a thread (see social.serving).
    served = BufferedWsgi(app, threads=settings.social_threads)

    def post_fork(_server: Any, _worker: Any) -> None:
        with app.app_context():
            db.engine.dispose(close=False)  # no connection crosses a fork

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": settings.social_bind,
                "workers": settings.social_workers,
                "worker_class": "asgi",
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

        def load(self) -> BufferedWsgi:
            return served

    log.info("serving", bind=settings.social_bind, base_url=settings.base_url, workers=settings.social_workers)
    Server().run()


@click.command()
def relay() -> None:
    """Publish outbox events to RabbitMQ, and take in what the notifier reports, until SIGTERM or Ctrl-C."""
    service = build_relay(configured())
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
