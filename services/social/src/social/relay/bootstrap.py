"""The composition root: builds the relay from settings, with collaborators tests can swap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pika
import sqlalchemy as sa
from microblog_contracts import EXCHANGE
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.brokers import amqp_brokers
from microblog_plumbing.databases import sqlite_pragmas
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from social.dbtypes import utcnow
from social.inbox.consumer import CONNECTION_ERRORS, BrokerConnection, InboxConsumer
from social.inbox.handler import InboxHandler, Outcome
from social.inbox.store import InboxStore
from social.inbox.topology import InboxTopology
from social.outbox.schema import NOTIFY_CHANNEL
from social.relay.batches import BatchRelay
from social.relay.metrics import RelayMetrics
from social.relay.pruning import OutboxPruner
from social.relay.publisher import ConfirmingPublisher, Publisher
from social.relay.service import RelayService
from social.relay.wakeup import PostgresWakeup, Wakeup
from social.settings import SocialSettings


def relay_engine(url: str) -> Engine:
    """The relay's engine (and a replay's): SQLite set up as the web app's is; on PostgreSQL,
    pre-pinged connections whose commits skip the disk flush."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 15})
        sa.event.listen(engine, "connect", sqlite_pragmas)
        return engine
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


def build_relay(
    settings: SocialSettings,
    *,
    publisher: Publisher | None = None,
    inbox_connect: Callable[[], BrokerConnection] | None = None,
    wakeup: Wakeup | None = None,
    failure_backoff: Backoff | None = None,
    registry: CollectorRegistry | None = None,
    serve_http: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> RelayService:
    """Wire a relay from `settings`; it connects to nothing until `run()`.

    Tests pass a fake `publisher` and `inbox_connect` (what opens the inbox's broker connection),
    a `failure_backoff` of their choosing, the `registry` whose samples they read,
    `serve_http=False` to leave the probes' port alone, and the `clock` that times the pruning.
    """
    engine = relay_engine(settings.database_url)
    publisher = publisher or ConfirmingPublisher(settings.amqp_url, EXCHANGE)
    if wakeup is None and engine.dialect.name == "postgresql":
        wakeup = PostgresWakeup(engine.url, NOTIFY_CHANNEL, settings.relay_poll_interval)
    metrics = RelayMetrics(engine, registry)

    def count(outcome: Outcome) -> None:
        metrics.inbox_messages.labels(outcome.event_type, outcome.verdict.value).inc()

    inbox = InboxConsumer(
        connect=inbox_connect or _inbox_connection(settings.amqp_url),
        topology=InboxTopology(),
        handler=InboxHandler(InboxStore(engine)),
        backoff=Backoff(initial=0.5, cap=30.0),
        on_settled=count,
    )
    return RelayService(
        engine=engine,
        publisher=publisher,
        inbox=inbox,
        batches=BatchRelay(engine, publisher, batch_size=settings.relay_batch_size,
                           confirm_timeout=settings.relay_confirm_timeout),
        wakeup=wakeup or Wakeup(settings.relay_poll_interval),
        metrics=metrics,
        failure_backoff=failure_backoff or Backoff(initial=0.5, cap=30.0),
        http_bind=settings.relay_http_bind if serve_http else None,
        pruner=OutboxPruner(engine, retention=settings.outbox_retention, clock=clock),
    )


def _inbox_connection(amqp_url: str) -> Callable[[], BrokerConnection]:
    """What opens the inbox's connection: to the first broker of `amqp_url` that answers, starting
    after the one of its last connection (the inbox connects again only once that one has ended)."""
    brokers = amqp_brokers(amqp_url, connection_name="social-relay-inbox")

    def connect() -> BrokerConnection:
        return brokers.connect(pika.BlockingConnection, CONNECTION_ERRORS)

    return connect
