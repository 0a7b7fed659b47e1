"""The inbox's connection to RabbitMQ: consume, let the handler decide, settle.

One thread owns the connection. Each message is handled on it (a database write of a few
milliseconds) and settled only after the database has committed: acked when done, or published
to the dead-letter queue (with the reason in `x-social-failure`, confirmed by the broker) and
then acked. While the database is away the connection is closed, so the broker keeps the message
for later, and the consumer comes back after a capped, growing delay: never a hot requeue.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import pika
import pika.exceptions
import structlog
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.brokers import NoBrokerAnswered, broker_error
from pika.spec import Basic, BasicProperties

from social.inbox.handler import InboxHandler, Outcome, Verdict
from social.inbox.store import StoreUnavailable
from social.inbox.topology import InboxTopology

log = structlog.get_logger("social.inbox")

#: Errors that end a connection's life (or keep one from opening): connect again after a delay.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError, NoBrokerAnswered)


class BrokerConnection(Protocol):
    """What the consumer needs of a connection; pika's BlockingConnection is the real one."""

    @property
    def is_open(self) -> bool: ...

    def channel(self) -> Any: ...

    def process_data_events(self, time_limit: float) -> Any: ...

    def close(self) -> Any: ...


class InboxConsumer:
    """Consumes the inbox queue until :meth:`stop`; reconnects when the broker goes away."""

    def __init__(self, *, connect: Callable[[], BrokerConnection], topology: InboxTopology, handler: InboxHandler,
                 backoff: Backoff, prefetch: int = 50, on_settled: Callable[[Outcome], None] | None = None) -> None:
        self._connect = connect
        self.topology = topology
        self.handler = handler
        self.backoff = backoff
        self.prefetch = prefetch
        self._on_settled = on_settled
        self._stopping = threading.Event()
        self._consuming = threading.Event()
        self._store_failing = False
        self.last_error: str | None = None

    @property
    def ready(self) -> bool:
        """Connected and consuming."""
        return self._consuming.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._consuming.wait(timeout)

    def run(self) -> None:
        """Consume until :meth:`stop`, connecting again after each failure."""
        while not self._stopping.is_set():
            try:
                self._consume()
            except StoreUnavailable as exc:
                self._store_failing = True
                self.last_error = f"database unavailable: {exc}"
                log.warning("inbox_database_unavailable", error=str(exc))
            except CONNECTION_ERRORS as exc:
                self.last_error = f"broker: {broker_error(exc)}"
                log.warning("inbox_broker_connection_lost", error=broker_error(exc))
            except Exception as exc:  # a bug must not end the inbox silently
                self.last_error = f"internal error: {exc!r}"[:300]
                log.exception("inbox_crashed", error=repr(exc))
            else:
                return
            delay = self.backoff.next_delay()
            log.info("inbox_reconnect_scheduled", in_seconds=round(delay, 2))
            self._stopping.wait(delay)

    def stop(self) -> None:
        """Make :meth:`run` return within a fraction of a second; safe from any thread."""
        self._stopping.set()

    def _consume(self) -> None:
        connection = self._connect()
        try:
            channel = connection.channel()
            dead_letters = connection.channel()
            dead_letters.confirm_delivery()
            self.topology.declare(channel)
            channel.basic_qos(prefetch_count=self.prefetch)
            on_message = partial(self._on_message, dead_letters)
            tag = channel.basic_consume(self.topology.queue, on_message_callback=on_message)
            self._consuming.set()
            self.last_error = None
            if not self._store_failing:  # the database's trouble is only over once a message goes through
                self.backoff.reset()
            log.info("inbox_consuming", queue=self.topology.queue, prefetch=self.prefetch)
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=0.2)
                self.handler.housekeeping()
            channel.basic_cancel(tag)
            log.info("inbox_stopped")
        finally:
            self._consuming.clear()
            if connection.is_open:
                with contextlib.suppress(*CONNECTION_ERRORS):  # going anyway
                    connection.close()

    def _on_message(self, dead_letters: Any, channel: Any, method: Basic.Deliver, properties: BasicProperties,
                    body: bytes) -> None:
        # A StoreUnavailable leaves the message unsettled and ends the connection: the broker
        # redelivers it once the consumer is back.
        self._settle(channel, dead_letters, method, properties, body, self.handler.handle(body))

    def _settle(self, channel: Any, dead_letters: Any, method: Basic.Deliver, properties: BasicProperties,
                body: bytes, outcome: Outcome) -> None:
        """The one place an inbox message is acked or dead-lettered."""
        if outcome.verdict is Verdict.DEAD:
            headers = {**(properties.headers or {}), "x-social-failure": outcome.reason or "unknown",
                       "x-social-reason": (outcome.detail or "")[:500]}
            dead_letters.basic_publish(
                "", self.topology.dead_letter_queue, body,
                BasicProperties(content_type=properties.content_type, delivery_mode=pika.DeliveryMode.Persistent,
                                message_id=properties.message_id, type=properties.type,
                                timestamp=properties.timestamp, headers=headers),
                mandatory=True,
            )
            log.warning("inbox_dead_lettered", event_id=outcome.event_id or properties.message_id,
                        event_type=outcome.event_type, reason=outcome.reason, detail=outcome.detail)
        channel.basic_ack(delivery_tag=method.delivery_tag)
        self._store_failing = False
        self.backoff.reset()
        if self._on_settled is not None:
            self._on_settled(outcome)
