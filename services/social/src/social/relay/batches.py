"""One pass of the relay: claim pending events, publish them, mark what the broker confirmed.

Several relays may run against one PostgreSQL database: each batch is claimed with
`FOR UPDATE SKIP LOCKED`, so two relays never publish the same event in normal operation. On
SQLite (the zero-setup default) run one relay.
A published event keeps its row (with `published_at`): replays read it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from social.outbox.schema import outbox_events as outbox
from social.relay.publisher import Confirmation, Outgoing, Publisher

log = structlog.get_logger("social.relay")

#: What publishing an event needs of its outbox row.
MESSAGE_COLUMNS = (outbox.c.position, outbox.c.event_id, outbox.c.event_type, outbox.c.body, outbox.c.occurred_at)


def message_of(row: Any) -> Outgoing:
    """The message for an outbox row read with :data:`MESSAGE_COLUMNS`."""
    return Outgoing(message_id=row.event_id, routing_key=row.event_type, body=row.body.encode(),
                    timestamp=int(row.occurred_at.timestamp()))


@dataclass(frozen=True)
class BatchReport:
    """What one pass did: how many events it claimed and published, the others by reason."""

    claimed: int
    published: int
    failed: dict[str, int]
    seconds: float = 0.0  # from publishing the batch to its last confirm
    full: bool = False  # as many as a batch takes: more may be pending


class BatchRelay:
    """Moves one batch of events from the outbox table to the broker."""

    def __init__(self, engine: Engine, publisher: Publisher, *, batch_size: int, confirm_timeout: float) -> None:
        self._engine = engine
        self._publisher = publisher
        self._batch_size = batch_size
        self._confirm_timeout = confirm_timeout

    def relay_batch(self) -> BatchReport:
        """Claim up to `batch_size` pending events, publish them, record what the broker confirmed.

        On PostgreSQL the claimed rows stay locked (`FOR UPDATE SKIP LOCKED`) until the marks
        are committed, which keeps other relays off them and blocks no writer. SQLite has only
        a database-wide write lock, and holding it while the broker confirms would make every
        follow wait on the broker: there the batch is read, published, then marked in a second
        short transaction (run one relay on SQLite; a second could publish an event twice).
        """
        if self._engine.dialect.name == "postgresql":
            with self._engine.begin() as conn:
                rows = self._claim(conn, lock=True)
                if not rows:
                    return BatchReport(0, 0, {})
                confirmations, elapsed = self._publish(rows)
                confirmed, failures = self._mark(conn, rows, confirmations)
        else:
            with self._engine.connect() as conn:
                rows = self._claim(conn, lock=False)
            if not rows:
                return BatchReport(0, 0, {})
            confirmations, elapsed = self._publish(rows)
            with self._engine.begin() as conn:
                confirmed, failures = self._mark(conn, rows, confirmations)
        if confirmed:
            log.info("published", count=len(confirmed), first=rows[0].position, seconds=round(elapsed, 4),
                     **({"event_id": rows[0].event_id} if len(rows) == 1 else {}))
        return BatchReport(len(rows), len(confirmed), failures, elapsed, full=len(rows) >= self._batch_size)

    def _claim(self, conn: sa.Connection, *, lock: bool) -> list[Any]:
        query = (
            sa.select(*MESSAGE_COLUMNS)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.position)
            .limit(self._batch_size)
        )
        return list(conn.execute(query.with_for_update(skip_locked=True) if lock else query).all())

    def _publish(self, rows: list[Any]) -> tuple[dict[str, Confirmation], float]:
        started = time.perf_counter()
        confirmations = self._publisher.publish([message_of(row) for row in rows], timeout=self._confirm_timeout)
        return confirmations, time.perf_counter() - started

    @staticmethod
    def _mark(
        conn: sa.Connection, rows: list[Any], confirmations: dict[str, Confirmation]
    ) -> tuple[list[int], dict[str, int]]:
        """Record the confirmed as published, count an attempt and its reason on the rest."""
        outcome = {r.event_id: confirmations.get(r.event_id, Confirmation.LOST) for r in rows}
        confirmed = [r.position for r in rows if outcome[r.event_id] is Confirmation.CONFIRMED]
        if confirmed:
            conn.execute(sa.update(outbox).where(outbox.c.position.in_(confirmed)).values(published_at=datetime.now(UTC)))
        by_reason: dict[str, list[int]] = {}
        for row in rows:
            if outcome[row.event_id] is not Confirmation.CONFIRMED:
                by_reason.setdefault(outcome[row.event_id].value, []).append(row.position)
        for reason, positions in by_reason.items():
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.position.in_(positions))
                .values(publish_attempts=outbox.c.publish_attempts + 1, last_error=reason)
            )
        return confirmed, {reason: len(positions) for reason, positions in by_reason.items()}
