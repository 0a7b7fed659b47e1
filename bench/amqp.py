"""RabbitMQ from the bench's side: declare the notifier's topology, preload its work queue fast,
watch a queue's depth."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pika
from microblog_contracts import EXCHANGE, USER_FOLLOWED
from notifier.bootstrap import build_topology
from notifier.settings import NotifierSettings
from notifier.topology import Topology
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from bench.events import EncodedEvent
from bench.infra import wait_for

ADMIN = "admin@microblog.test"


def notifier_topology(amqp_url: str) -> Topology:
    """The topology `notifier run` declares with default settings."""
    return build_topology(NotifierSettings(amqp_url=amqp_url, admins=[ADMIN]))


@contextmanager
def connection(amqp_url: str) -> Iterator[BlockingConnection]:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        yield conn
    finally:
        if conn.is_open:
            conn.close()


def declare_notifier_topology(amqp_url: str) -> Topology:
    """Declare the notifier's exchange, queues and bindings, as the notifier itself would."""
    topology = notifier_topology(amqp_url)
    with connection(amqp_url) as conn:
        topology.declare(conn.channel())
    return topology


def properties(event_id: str, amqp_url: str) -> pika.BasicProperties:
    """An event's properties as the relay sets them: persistent, its id, the publishing user (which
    the broker checks against the connection's, and the notifier against the users it trusts)."""
    return pika.BasicProperties(message_id=event_id, delivery_mode=2, content_type="application/cloudevents+json",
                                user_id=str(pika.URLParameters(amqp_url).credentials.username))


def preload(amqp_url: str, queue: str, events: Sequence[EncodedEvent], *, timeout: float = 300) -> None:
    """Put `events` on `queue` (through the exchange, as the relay would), pipelined: no wait for
    each confirm; then wait until the queue holds them all."""
    with connection(amqp_url) as conn:
        channel = conn.channel()
        before = depth_of(channel, queue)
        for event in events:
            channel.basic_publish(EXCHANGE, USER_FOLLOWED, event.body, properties(event.event_id, amqp_url))
        wait_for(lambda: depth_of(channel, queue) >= before + len(events), timeout=timeout,
                 what=f"{len(events)} events on {queue}", interval=0.1)


def depth_of(channel: BlockingChannel, queue: str) -> int:
    """Messages ready on `queue` (not counting those delivered and not yet acked)."""
    return int(channel.queue_declare(queue, passive=True).method.message_count)


@contextmanager
def depth_reader(amqp_url: str, queue: str) -> Iterator[Callable[[], float]]:
    """A reader of `queue`'s depth on a connection of its own (for a Sampler)."""
    with connection(amqp_url) as conn:
        channel = conn.channel()
        yield lambda: float(depth_of(channel, queue))
