"""Building the relay process from settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from microblog_contracts import EXCHANGE
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social.outbox.schema import NOTIFY_CHANNEL, outbox_events
from social.relay.metrics import RelayMetrics
from social.relay.publisher import ConfirmingPublisher
from social.relay.relay import Relay
from social.relay.wakeup import PostgresWakeup, Wakeup
from social.settings import SocialSettings


class OutboxMissing(Exception):
    """The database has no outbox table yet."""


def relay_engine(url: str) -> Engine:
    """The relay's engine: pre-pinged connections on PostgreSQL, a patient lock wait on SQLite."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 15})
    engine = sa.create_engine(url, pool_pre_ping=True)
    sa.event.listen(engine, "connect", _no_commit_flush)
    return engine


def _no_commit_flush(dbapi_connection: Any, _record: object) -> None:
    # The relay's commits (marking events published) need not wait for a disk flush: a mark lost
    # to a database crash only means its event is published again, and the notifier folds it by
    # its id. Set once per connection, so no batch pays a round trip for it.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET synchronous_commit TO OFF")
    dbapi_connection.autocommit = autocommit


def check_outbox(engine: Engine) -> None:
    """Fail early, and clearly, when the schema has not been created."""
    try:
        if not sa.inspect(engine).has_table(outbox_events.name):
            raise OutboxMissing("the database has no outbox table: run `social db upgrade` first")
    except SQLAlchemyError as exc:
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
        raise OutboxMissing(f"cannot read the database: {detail}") from None


def build_relay(settings: SocialSettings, *, publisher: ConfirmingPublisher | None = None) -> Relay:
    """A relay wired from `settings` (the publisher is started by the caller)."""
    engine = relay_engine(settings.database_url)
    wakeup: Wakeup
    if engine.dialect.name == "postgresql":
        wakeup = PostgresWakeup(engine.url, NOTIFY_CHANNEL, settings.relay_poll_interval)
    else:
        wakeup = Wakeup(settings.relay_poll_interval)
    return Relay(
        engine,
        publisher or ConfirmingPublisher(settings.amqp_url, EXCHANGE),
        batch_size=settings.relay_batch_size,
        confirm_timeout=settings.relay_confirm_timeout,
        wakeup=wakeup,
        metrics=RelayMetrics(engine),
    )
