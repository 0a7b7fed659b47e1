"""The notifier's one edge to RabbitMQ: connection parameters, pika's errors in our own names,
and faithful copies of messages (retries, dead letters, replays).

The live consumer, the replays and the operator commands all connect through here.
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
from microblog_plumbing.brokers import broker_error, split_amqp_urls
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.spec import BasicProperties

from notifier.errors import BrokerUnavailable, RepublishRefused

#: pika's errors that mean "this connection or channel is gone": reconnect.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (pika.exceptions.AMQPError, OSError)


def connection_parameters(amqp_url: str, heartbeat: int, name: str) -> pika.URLParameters:
    """Parameters for `amqp_url` with our heartbeat, timeouts and a connection name."""
    params = pika.URLParameters(split_amqp_urls(amqp_url)[0])
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.client_properties = {"connection_name": f"{name} {socket.gethostname()}"}
    return params


def translate(exc: BaseException) -> BrokerUnavailable:
    """A pika or socket error as :class:`BrokerUnavailable`, naming its cause."""
    if isinstance(exc, BrokerUnavailable):
        return exc
    return BrokerUnavailable(broker_error(exc))


def connect(parameters: pika.URLParameters) -> BlockingConnection:
    """A blocking connection, or :class:`BrokerUnavailable` saying why not."""
    try:
        return pika.BlockingConnection(parameters)
    except CONNECTION_ERRORS as exc:
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


def copy_message(channel: PublishChannel, message: Received, queue: str, headers: dict[str, Any]) -> None:
    """Publish `message` to `queue` (through the default exchange) with `headers`, persistent,
    keeping its id and content properties, on a confirming channel; returns once the broker has
    it. Raises :class:`RepublishRefused` if the broker will not take it, :class:`BrokerUnavailable`
    if the channel is gone."""
    p = message.properties
    properties = BasicProperties(
        content_type=p.content_type, content_encoding=p.content_encoding, message_id=p.message_id,
        timestamp=p.timestamp, type=p.type, app_id=p.app_id, delivery_mode=2, headers=headers,
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
def open_channels(parameters: pika.URLParameters) -> Iterator[Channels]:
    """A connection with its two channels for an operator command; closed at the end, so the broker
    puts back whatever the command took and did not ack. Raises :class:`BrokerUnavailable`."""
    connection = connect(parameters)
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
