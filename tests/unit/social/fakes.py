"""Fakes that record, for the relay's unit tests: a publisher with a scripted broker, an outbox,
and a broker for the inbox."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pika.exceptions
import sqlalchemy as sa
from microblog_plumbing.backoff import Backoff
from pika.spec import Basic, BasicProperties
from social.outbox.schema import metadata, outbox_events
from social.relay.publisher import Confirmation, Outgoing
from social.relay.wakeup import Wakeup


class FakePublisher:
    """A broker connection that answers as scripted and records every batch it is given.

    `answers[event_id]` is what the broker says of each attempt to publish that event, in turn;
    an event with nothing (more) scripted is confirmed. While not `ready`, `wait_ready` blocks
    as the real one does, until its timeout or `interrupt()`.
    """

    def __init__(self, *, ready: bool = True, last_error: str | None = None,
                 answers: dict[str, list[Confirmation]] | None = None) -> None:
        self.ready = ready
        self.last_error = last_error
        self.answers = answers or {}
        self.batches: list[list[str]] = []
        self.started = False
        self.stopped = False
        self.waiting = threading.Event()
        self._interrupted = threading.Event()

    def start(self) -> None:
        self.started = True

    def wait_ready(self, timeout: float) -> bool:
        if not self.ready:
            self.waiting.set()
            self._interrupted.wait(timeout)
        return self.ready

    def interrupt(self) -> None:
        self._interrupted.set()

    def publish(self, messages: Sequence[Outgoing], timeout: float) -> dict[str, Confirmation]:
        self.batches.append([m.message_id for m in messages])
        return {m.message_id: self._answer(m.message_id) for m in messages}

    def stop(self) -> None:
        self.stopped = True

    @property
    def published(self) -> list[str]:
        """Every message id given to the broker, in order, repeats included."""
        return [message_id for batch in self.batches for message_id in batch]

    def _answer(self, message_id: str) -> Confirmation:
        script = self.answers.get(message_id)
        return script.pop(0) if script else Confirmation.CONFIRMED


class RecordingBackoff(Backoff):
    """The real backoff, short, remembering each delay it gave and each reset."""

    def __init__(self, initial: float = 0.01, cap: float = 0.08) -> None:
        super().__init__(initial=initial, cap=cap)
        self.delays: list[float] = []
        self.resets = 0

    def next_delay(self) -> float:
        delay = super().next_delay()
        self.delays.append(delay)
        return delay

    def reset(self) -> None:
        self.resets += 1
        super().reset()


class NoticedWakeup(Wakeup):
    """The polling wake-up, telling when the relay has started waiting on it."""

    def __init__(self, poll_interval: float) -> None:
        super().__init__(poll_interval)
        self.waiting = threading.Event()

    def wait(self) -> None:
        self.waiting.set()
        super().wait()


class Outbox:
    """An outbox table in a SQLite file, filled and read the way the web app and the relay do."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        self._engine = sa.create_engine(self.url)
        metadata.create_all(self._engine)

    def add(self, event_id: str, *, age: timedelta = timedelta(0), event_type: str = "user.followed",
            published: bool = False) -> None:
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            conn.execute(sa.insert(outbox_events).values(
                event_id=event_id, event_type=event_type, body=f'{{"id": "{event_id}"}}', occurred_at=now - age,
                published_at=now if published else None))

    def row(self, event_id: str) -> sa.Row[tuple[object, ...]]:
        with self._engine.connect() as conn:
            row: sa.Row[tuple[object, ...]] = conn.execute(
                sa.select(outbox_events).where(outbox_events.c.event_id == event_id)).one()
        return row

    def pending(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.scalars(sa.select(outbox_events.c.event_id)
                                     .where(outbox_events.c.published_at.is_(None))
                                     .order_by(outbox_events.c.position)))

    def close(self) -> None:
        self._engine.dispose()


class FakeInboxBroker:
    """A broker holding the inbox's queue: what `publish` puts on it, a connection made by
    `connect` delivers to the consumer. It records what was declared, acked and dead-lettered;
    a message unacked when its connection closes is delivered again, as RabbitMQ does."""

    def __init__(self, *, refuse_connections: int = 0) -> None:
        self.ready: deque[tuple[bytes, BasicProperties, bool]] = deque()
        self.acked: list[bytes] = []
        self.published: dict[str, list[tuple[bytes, BasicProperties]]] = {}
        self.declared: dict[str, dict[str, Any]] = {}
        self.bindings: list[tuple[str, str, str]] = []
        self.connections = 0
        self.refuse_connections = refuse_connections
        self.lock = threading.Lock()

    def publish(self, body: bytes, *, message_id: str | None = None, event_type: str = "mail.activity") -> None:
        with self.lock:
            self.ready.append((body, BasicProperties(message_id=message_id, type=event_type, headers={}), False))

    def connect(self) -> FakeInboxConnection:
        with self.lock:
            self.connections += 1
            if self.refuse_connections:
                self.refuse_connections -= 1
                raise pika.exceptions.AMQPConnectionError("refused by the fake")
        return FakeInboxConnection(self)

    def dead_letters(self, queue: str = "social.mail-activity.dead") -> list[tuple[bytes, dict[str, Any]]]:
        return [(body, dict(properties.headers or {})) for body, properties in self.published.get(queue, [])]

    @property
    def pending(self) -> int:
        return len(self.ready)


class FakeInboxConnection:
    def __init__(self, broker: FakeInboxBroker) -> None:
        self.broker = broker
        self.is_open = True
        self.unacked: dict[int, tuple[bytes, BasicProperties]] = {}
        self.consumer: Callable[..., None] | None = None
        self.consumer_channel: FakeInboxChannel | None = None
        self._tags = itertools.count(1)
        self._idle = threading.Event()

    def channel(self) -> FakeInboxChannel:
        return FakeInboxChannel(self)

    def process_data_events(self, time_limit: float) -> None:
        """Deliver what is ready to the consumer (its exceptions come out here, as pika's do)."""
        with self.broker.lock:
            message = self.broker.ready.popleft() if self.broker.ready and self.consumer else None
        if message is None:
            self._idle.wait(min(time_limit, 0.01))
            return
        body, properties, redelivered = message
        tag = next(self._tags)
        self.unacked[tag] = (body, properties)
        assert self.consumer is not None
        self.consumer(self.consumer_channel, Basic.Deliver(delivery_tag=tag, redelivered=redelivered,
                                                           routing_key=properties.type), properties, body)

    def close(self) -> None:
        self.is_open = False
        with self.broker.lock:
            for body, properties in reversed(list(self.unacked.values())):
                self.broker.ready.appendleft((body, properties, True))
        self.unacked.clear()


class FakeInboxChannel:
    def __init__(self, connection: FakeInboxConnection) -> None:
        self.connection = connection
        self.broker = connection.broker

    def exchange_declare(self, exchange: str, exchange_type: str, durable: bool) -> None:
        self.broker.declared[exchange] = {"type": exchange_type, "durable": durable}

    def queue_declare(self, queue: str, durable: bool, arguments: dict[str, Any]) -> None:
        self.broker.declared[queue] = dict(arguments)

    def queue_bind(self, queue: str, exchange: str, routing_key: str) -> None:
        self.broker.bindings.append((exchange, routing_key, queue))

    def basic_qos(self, prefetch_count: int) -> None:
        pass

    def confirm_delivery(self) -> None:
        pass

    def basic_consume(self, queue: str, on_message_callback: Callable[..., None]) -> str:
        self.connection.consumer, self.connection.consumer_channel = on_message_callback, self
        return "ctag"

    def basic_cancel(self, tag: str) -> None:
        self.connection.consumer = None

    def basic_ack(self, delivery_tag: int) -> None:
        body, _ = self.connection.unacked.pop(delivery_tag)
        self.broker.acked.append(body)

    def basic_publish(self, exchange: str, routing_key: str, body: bytes, properties: BasicProperties,
                      mandatory: bool = False) -> None:
        assert exchange == "" and mandatory
        self.broker.published.setdefault(routing_key, []).append((body, properties))
