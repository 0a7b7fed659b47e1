"""The notifier's one edge to RabbitMQ: the brokers to connect to, pika's errors in our own names,
and faithful copies of messages (retries, dead letters, replays).

The live consumer, the replays and the operator commands all connect through here, each to the
first broker of `AMQP_URL` that answers (:class:`~microblog_plumbing.brokers.Failover`).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pika
import pika.exceptions
from microblog_plumbing.brokers import Failover, NoBrokerAnswered, amqp_brokers, broker_error
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.spec import BasicProperties

from notifier.errors import BrokerUnavailable, RepublishRefused

#: pika's errors that mean "this connection or channel is gone": reconnect.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (pika.exceptions.AMQPError, OSError)

#: What keeps a connection from opening: pika's errors, or every broker's at once.
CONNECT_ERRORS: tuple[type[Exception], ...] = (*CONNECTION_ERRORS, NoBrokerAnswered)

#: The brokers a connection may go to, each as pika's parameters.
Brokers = Failover[pika.URLParameters]

#: On the notifier's copy of a message (its user in `user_id`): the AMQP user who first published it.
ORIGINAL_USER_HEADER = "x-original-user-id"


def brokers_for(amqp_url: str, heartbeat: int, name: str) -> Brokers:
    """The brokers of `amqp_url` (one, or a cluster's nodes) with our heartbeat, timeouts and a
    connection name, in this process's order."""
    return amqp_brokers(amqp_url, connection_name=f"{name} {socket.gethostname()}", heartbeat=heartbeat,
                        blocked_connection_timeout=60)


def translate(exc: BaseException) -> BrokerUnavailable:
    """A pika or socket error as :class:`BrokerUnavailable`, naming its cause."""
    if isinstance(exc, BrokerUnavailable):
        return exc
    return BrokerUnavailable(broker_error(exc))


def connect(brokers: Brokers) -> BlockingConnection:
    """A blocking connection to the first of `brokers` that answers, or :class:`BrokerUnavailable`
    saying why not (naming each broker's answer when there are several)."""
    try:
        return brokers.connect(pika.BlockingConnection, CONNECTION_ERRORS)
    except CONNECT_ERRORS as exc:
        raise translate(exc) from None


def close_quietly(connection: BlockingConnection) -> None:
    """Close `connection` if it is open; a connection that is already going away is no news."""
    if connection.is_open:
        with contextlib.suppress(*CONNECTION_ERRORS):
            connection.close()


@dataclass(frozen=True, slots=True)
class Received:
    """A message as it arrived: enough to publish a faithful copy of it."""

    body: bytes
    properties: BasicProperties
    exchange: str
    routing_key: str

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})


class PublishChannel(Protocol):
    """What copying needs of a confirming pika channel (a fake in unit tests)."""

    def basic_publish(self, exchange: str, routing_key: str, body: bytes,
                      properties: BasicProperties | None = None, mandatory: bool = False) -> None: ...


def copy_message(channel: PublishChannel, message: Received, queue: str, headers: dict[str, Any], *,
                 as_user: str) -> None:
    """Publish `message` to `queue` (through the default exchange) with `headers`, persistent,
    keeping its id and content properties, on a confirming channel; returns once the broker has
    it. The copy is published by `as_user` (the notifier's own AMQP user, which the broker checks),
    the original publisher kept in :data:`ORIGINAL_USER_HEADER`. Raises :class:`RepublishRefused`
    if the broker will not take it, :class:`BrokerUnavailable` if the channel is gone."""
    p = message.properties
    original = (headers.get(ORIGINAL_USER_HEADER) if p.user_id == as_user else None) or p.user_id
    if original is not None:
        headers = {**headers, ORIGINAL_USER_HEADER: original}
    properties = BasicProperties(
        content_type=p.content_type, content_encoding=p.content_encoding, message_id=p.message_id,
        timestamp=p.timestamp, type=p.type, app_id=p.app_id, user_id=as_user, delivery_mode=2, headers=headers,
    )
    try:
        channel.basic_publish("", queue, message.body, properties, mandatory=True)
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
        raise RepublishRefused(f"{type(exc).__name__} publishing to {queue}") from None
    except CONNECTION_ERRORS as exc:
        raise translate(exc) from None


@dataclass(frozen=True)
class Channels:
    """A consuming channel and a confirming publisher channel on one connection."""

    connection: BlockingConnection
    channel: BlockingChannel
    publisher: BlockingChannel


@contextmanager
def open_channels(brokers: Brokers) -> Iterator[Channels]:
    """A connection (to the first of `brokers` that answers) with its two channels for an operator
    command; closed at the end, so the broker puts back whatever the command took and did not ack.
    Raises :class:`BrokerUnavailable`."""
    connection = connect(brokers)
    try:
        try:
            channel = connection.channel()
            publisher = connection.channel()
            publisher.confirm_delivery()
        except CONNECTION_ERRORS as exc:
            raise translate(exc) from None
        yield Channels(connection, channel, publisher)
    finally:
        close_quietly(connection)
