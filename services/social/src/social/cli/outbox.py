"""`social outbox prune`: what the outbox and the counters keep of people, cut to what is needed."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def outbox() -> None:
    """The events kept in the outbox, as the privacy rules keep them."""


@outbox.command("prune")
def prune() -> None:
    """Erase a deleted user's published events, drop the addresses of those older than
    OUTBOX_RETENTION, and delete ended sessions and rate limit windows. Run it every few minutes
    (cron, a systemd timer, a Kubernetes CronJob); it is safe to run often and from anywhere."""
    from social.dbtypes import utcnow
    from social.extensions import db
    from social.limitstore import prune_counters
    from social.outbox.retention import prune_outbox
    from social.sessions import prune_sessions
    from social.settings import current_settings

    now = utcnow()
    pruned = prune_outbox(db.engine, retention=current_settings().outbox_retention, now=now)
    sessions = prune_sessions(now)
    db.session.commit()
    counters = prune_counters(db.engine)
    click.echo(f"erased {pruned.erased} event(s) of deleted users, dropped the addresses of "
               f"{pruned.addresses_dropped} older event(s), deleted {sessions} ended session(s) and "
               f"{counters} ended rate limit window(s)")
