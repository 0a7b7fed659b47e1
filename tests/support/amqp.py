"""Talking to RabbitMQ from tests: publish events, look into queues."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
from microblog_contracts import EXCHANGE
from pika.adapters.blocking_connection import BlockingChannel

from tests.support.wait import wait_for


@contextmanager
def channel(amqp_url: str) -> Iterator[BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = connection.channel()
        ch.confirm_delivery()
        yield ch
    finally:
        connection.close()


def user_of(amqp_url: str) -> str:
    """The AMQP user `amqp_url` connects as: what a publisher on it may put in `user_id`."""
    return str(pika.URLParameters(amqp_url).credentials.username)


def event_properties(amqp_url: str, message_id: str | None, headers: dict[str, Any] | None = None,
                     ) -> pika.BasicProperties:
    """The properties the relay gives an event: persistent, its id, and the publishing user."""
    return pika.BasicProperties(message_id=message_id, delivery_mode=2, content_type="application/cloudevents+json",
                                user_id=user_of(amqp_url), headers=headers)


def publish(amqp_url: str, body: bytes, *, message_id: str | None = None, routing_key: str = "user.followed",
            exchange: str = EXCHANGE, headers: dict[str, Any] | None = None) -> None:
    """Publish like the relay does: persistent, mandatory, confirmed, naming its user."""
    with channel(amqp_url) as ch:
        ch.basic_publish(exchange, routing_key, body, event_properties(amqp_url, message_id, headers), mandatory=True)


def publish_many(amqp_url: str, bodies: list[tuple[str, bytes]]) -> None:
    """Publish (message id, body) pairs on one channel."""
    with channel(amqp_url) as ch:
        for message_id, body in bodies:
            ch.basic_publish(EXCHANGE, "user.followed", body, event_properties(amqp_url, message_id), mandatory=True)


@dataclass
class QueuedMessage:
    body: bytes
    properties: pika.BasicProperties

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})


def message_count(amqp_url: str, queue: str) -> int:
    """Messages ready in `queue` (not counting those delivered and not yet acked)."""
    with channel(amqp_url) as ch:
        return int(ch.queue_declare(queue, passive=True).method.message_count)


def wait_until_drained(amqp_url: str, queue: str, timeout: float = 30.0) -> None:
    """Wait until no message of `queue` is ready. Ones in a consumer's hands still count as
    queued to the broker: check :func:`assert_nothing_came_back` once the consumer has gone."""
    wait_for(lambda: message_count(amqp_url, queue) == 0, timeout=timeout, what=f"{queue} to drain")


def assert_nothing_came_back(amqp_url: str, queue: str) -> None:
    """After every consumer of `queue` has gone: a message it had not acked would be back, ready."""
    assert message_count(amqp_url, queue) == 0, f"messages of {queue} came back unacked"


def take_all(amqp_url: str, queue: str) -> list[QueuedMessage]:
    """Remove and return every message now in `queue`."""
    taken = []
    with channel(amqp_url) as ch:
        while True:
            method, properties, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append(QueuedMessage(body, properties))


def wait_for_messages(amqp_url: str, queue: str, count: int, timeout: float = 15.0) -> list[QueuedMessage]:
    """Wait until `queue` holds at least `count` messages, then take them all."""
    wait_for(lambda: message_count(amqp_url, queue) >= count, timeout=timeout, what=f"{count} message(s) in {queue}")
    return take_all(amqp_url, queue)
