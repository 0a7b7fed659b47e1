"""Publishing to RabbitMQ with pipelined publisher confirms.

pika's BlockingChannel waits for each confirm in turn (about 1,800 messages/s here). This
publisher runs a pika SelectConnection on a thread of its own: a batch is published in one go,
persistent and mandatory, each naming the connection's user (`user_id`, which the broker checks
and the notifier reads), and the broker's acks (often `multiple`) settle it. A message the
broker returns as unroutable, or nacks, or that was in flight when the connection dropped,
comes back as not confirmed, so the relay keeps its event pending.

`AMQP_URL` may name several brokers (a cluster's nodes): pika's SelectConnection takes one set of
parameters, so the publisher walks them itself, in this process's shuffled order. A broker that
does not answer sends it straight to the next; only when none of them answered does it wait its
capped backoff. When the connection drops, it waits that backoff and starts with the next node. A
nack ends the channel too: the nacked events stay pending, and go again on a new one.
"""

from __future__ import annotations

import contextlib
import enum
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pika
import pika.channel
import pika.exceptions
import pika.frame
import structlog
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.brokers import amqp_brokers, broker_error
from pika.adapters.select_connection import SelectConnection
from pika.spec import Basic, BasicProperties

log = structlog.get_logger("social.relay.publisher")


class Confirmation(enum.StrEnum):
    CONFIRMED = "confirmed"
    RETURNED = "returned"  # no queue is bound for its routing key
    NACKED = "nacked"  # the broker refused it
    LOST = "lost"  # not confirmed: the connection dropped or the wait timed out


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish to the exchange."""

    message_id: str
    routing_key: str
    body: bytes
    timestamp: int
    content_type: str = "application/cloudevents+json"


@dataclass
class _Batch:
    size: int
    results: dict[str, Confirmation] = field(default_factory=dict)
    returned: set[str] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settle(self, message_id: str, confirmation: Confirmation) -> None:
        with self.lock:
            if message_id in self.results:
                return
            if confirmation is Confirmation.CONFIRMED and message_id in self.returned:
                confirmation = Confirmation.RETURNED
            self.results[message_id] = confirmation
            if len(self.results) >= self.size:
                self.done.set()


class Publisher(Protocol):
    """What the relay and a replay need of a publisher; :class:`ConfirmingPublisher` is the real one."""

    last_error: str | None

    @property
    def ready(self) -> bool: ...

    def start(self) -> None: ...

    def wait_ready(self, timeout: float) -> bool: ...

    def interrupt(self) -> None: ...

    def publish(self, messages: Sequence[Outgoing], timeout: float) -> dict[str, Confirmation]: ...

    def stop(self) -> None: ...


class ConfirmingPublisher:
    """A connection kept open on a background thread; :meth:`publish` is safe from any thread.

    When the connection drops, it reconnects after a capped, resetting delay (`backoff`), to the
    first broker of `amqp_url` that answers.
    """

    def __init__(self, amqp_url: str, exchange: str, *, name: str = "social-relay",
                 backoff: Backoff | None = None, rng: random.Random | None = None) -> None:
        self.brokers = amqp_brokers(amqp_url, connection_name=name, rng=rng)
        self._attempt: pika.URLParameters | None = None  # the broker being connected to
        self._user_id: str | None = None  # the AMQP user of the connection open
        self._opened = False  # whether that connection opened
        self.exchange = exchange
        self._backoff = backoff or Backoff(initial=0.5, cap=30.0)
        # Guards the connection's state; notified whenever `_ready` or `_interrupted` changes.
        self._state = threading.Condition()
        self._ready = False
        self._interrupted = False
        self._stopping = threading.Event()
        self._connection: SelectConnection | None = None
        self._channel: pika.channel.Channel | None = None
        self._thread: threading.Thread | None = None
        self._next_tag = 1
        self._pending: dict[int, tuple[_Batch, str]] = {}
        self._by_message_id: dict[str, _Batch] = {}
        self.last_error: str | None = None

    # -- API, any thread -----------------------------------------------------------------------

    def start(self) -> None:
        """Connect, and keep connecting, on a thread of its own until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="amqp-publisher", daemon=True)
        self._thread.start()

    @property
    def ready(self) -> bool:
        """Connected, exchange declared, confirms on."""
        return self._ready

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for :attr:`ready`; after :meth:`interrupt`, return at once."""
        with self._state:
            self._state.wait_for(lambda: self._ready or self._interrupted, timeout)
            return self._ready

    def interrupt(self) -> None:
        """End every :meth:`wait_ready`, now and later; publishing goes on until :meth:`stop`."""
        with self._state:
            self._interrupted = True
            self._state.notify_all()

    def publish(self, messages: Sequence[Outgoing], timeout: float) -> dict[str, Confirmation]:
        """Publish `messages`; return each message id's confirmation (LOST if not known in time)."""
        if not messages:
            return {}
        batch = _Batch(size=len(messages))
        connection = self._connection
        if connection is None or not self._ready:
            return {m.message_id: Confirmation.LOST for m in messages}
        try:
            connection.ioloop.add_callback_threadsafe(lambda: self._publish_batch(batch, messages))
        except Exception:
            return {m.message_id: Confirmation.LOST for m in messages}
        batch.done.wait(timeout)
        with batch.lock:
            return {m.message_id: batch.results.get(m.message_id, Confirmation.LOST) for m in messages}

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection (unconfirmed messages come back LOST) and end the thread."""
        with self._state:
            self._stopping.set()
            connection = self._connection
        self.interrupt()
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.ioloop.add_callback_threadsafe(self._close)
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the ioloop thread ---------------------------------------------------------------------

    def _run(self) -> None:
        untried: list[pika.URLParameters] = []  # the brokers of this round not tried yet
        while True:
            if not untried:
                untried = self.brokers.candidates()
            with self._state:  # so that `stop()` either sees this connection or stops us here
                if self._stopping.is_set():
                    return
                self._attempt, self._opened = untried.pop(0), False
                connection = self._connection = SelectConnection(
                    self._attempt,
                    on_open_callback=self._on_connection_open,
                    on_open_error_callback=self._on_connection_open_error,
                    on_close_callback=self._on_connection_closed,
                )
            connection.ioloop.start()
            # The loop stopped: the connection is gone, or never opened.
            if self._opened:
                untried = []  # a new round, from the broker after the one just lost
            elif untried:
                continue  # another broker may answer: try it at once
            if self._stopping.wait(self._backoff.next_delay()):
                return

    def _where(self) -> str:
        return self.brokers.where(self._attempt) if self._attempt is not None else "?"

    def _set_ready(self, ready: bool) -> None:
        with self._state:
            self._ready = ready
            self._state.notify_all()

    def _on_connection_open(self, connection: SelectConnection) -> None:
        assert self._attempt is not None
        self._opened = True
        # Every event names its publisher: the broker checks it against this connection's user,
        # and the notifier takes events only from the users it trusts.
        credentials = self._attempt.credentials
        self._user_id = credentials.username if isinstance(credentials, pika.PlainCredentials) else None
        self.brokers.connected(self._attempt)
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_connection_open_error(self, connection: SelectConnection, error: BaseException | str) -> None:
        self.last_error = f"cannot connect: {self._where()}: {broker_error(error)}"
        log.warning("broker_unreachable", broker=self._where(), error=broker_error(error))
        connection.ioloop.stop()

    def _on_connection_closed(self, connection: SelectConnection, reason: BaseException) -> None:
        self._set_ready(False)
        self._channel = None
        self._fail_pending()
        if not self._stopping.is_set():
            self.last_error = f"connection closed: {self._where()}: {broker_error(reason)}"
            log.warning("broker_connection_lost", broker=self._where(), error=broker_error(reason))
        connection.ioloop.stop()

    def _on_channel_open(self, channel: pika.channel.Channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.exchange_declare(
            self.exchange, exchange_type="topic", durable=True, callback=self._on_exchange_declared
        )

    def _on_exchange_declared(self, _frame: pika.frame.Method[Any]) -> None:
        assert self._channel is not None
        self._channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: pika.frame.Method[Any]) -> None:
        self._next_tag = 1
        self._backoff.reset()
        self.last_error = None
        self._set_ready(True)
        log.info("broker_connected", exchange=self.exchange, broker=self._where())

    def _on_channel_closed(self, channel: pika.channel.Channel, reason: BaseException) -> None:
        self._set_ready(False)
        self._channel = None
        self._fail_pending()
        if self._stopping.is_set():  # our own shutdown closed it: nothing for an operator to look into
            log.info("broker_channel_closed", reason=str(reason))
        else:
            log.warning("broker_channel_closed", error=str(reason))
        if self._connection is not None and self._connection.is_open:
            self._connection.close()

    def _publish_batch(self, batch: _Batch, messages: Sequence[Outgoing]) -> None:
        channel = self._channel
        for message in messages:
            if channel is None or not channel.is_open:
                batch.settle(message.message_id, Confirmation.LOST)
                continue
            tag = self._next_tag
            self._next_tag += 1
            self._pending[tag] = (batch, message.message_id)
            self._by_message_id[message.message_id] = batch
            try:
                channel.basic_publish(
                    self.exchange,
                    message.routing_key,
                    message.body,
                    BasicProperties(
                        content_type=message.content_type,
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=message.message_id,
                        timestamp=message.timestamp,
                        type=message.routing_key,
                        app_id="social",
                        user_id=self._user_id,
                    ),
                    mandatory=True,
                )
            except pika.exceptions.AMQPError:
                self._pending.pop(tag, None)
                self._by_message_id.pop(message.message_id, None)
                batch.settle(message.message_id, Confirmation.LOST)

    def _on_return(self, _channel: pika.channel.Channel, _method: Basic.Return,
                   properties: BasicProperties, _body: bytes) -> None:
        batch = self._by_message_id.get(properties.message_id or "")
        if batch is not None:
            with batch.lock:
                batch.returned.add(properties.message_id or "")

    def _on_confirm(self, frame: pika.frame.Method[Any]) -> None:
        method = frame.method
        confirmation = Confirmation.CONFIRMED if isinstance(method, Basic.Ack) else Confirmation.NACKED
        tags = [t for t in self._pending if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            entry = self._pending.pop(tag, None)
            if entry is not None:
                batch, message_id = entry
                self._by_message_id.pop(message_id, None)
                batch.settle(message_id, confirmation)
        if confirmation is Confirmation.NACKED and self._channel is not None and self._channel.is_open:
            # A channel whose first publish to a quorum queue met the queue between two leaders (a
            # node just died) has every later publish to that queue nacked (RabbitMQ 3.10): start
            # afresh, on a new connection, rather than keep this one.
            log.warning("broker_nacked", broker=self._where(), note="opening a new channel")
            self._channel.close()

    def _fail_pending(self) -> None:
        for batch, message_id in self._pending.values():
            batch.settle(message_id, Confirmation.LOST)
        self._pending.clear()
        self._by_message_id.clear()

    def _close(self) -> None:
        self._set_ready(False)
        if self._connection is not None and self._connection.is_open:
            self._connection.close()
        elif self._connection is not None:
            self._connection.ioloop.stop()
