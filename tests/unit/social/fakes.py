"""Fakes that record, for the relay's unit tests: a publisher with a scripted broker, and an outbox."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from microblog_plumbing.backoff import Backoff
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
