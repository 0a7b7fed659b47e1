"""The outbox relay loop: take pending events, publish them, mark the confirmed ones.

Several relays may run against one PostgreSQL database: each batch is claimed with
`FOR UPDATE SKIP LOCKED`, so two relays never publish the same event in normal operation. On
SQLite (the zero-setup default) run one relay.
A published event keeps its row (with `published_at`): replays read it again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social.outbox.schema import outbox_events as outbox
from social.relay.metrics import RelayMetrics
from social.relay.publisher import Confirmation, ConfirmingPublisher, Outgoing
from social.relay.wakeup import Wakeup

log = structlog.get_logger("social.relay")


@dataclass(frozen=True)
class BatchReport:
    """What one pass did."""

    claimed: int
    published: int
    failed: dict[str, int]


class Relay:
    """Moves events from the outbox table to the broker."""

    def __init__(
        self,
        engine: Engine,
        publisher: ConfirmingPublisher,
        *,
        batch_size: int = 500,
        confirm_timeout: float = 10.0,
        wakeup: Wakeup,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.batch_size = batch_size
        self.confirm_timeout = confirm_timeout
        self.wakeup = wakeup
        self.metrics = metrics
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.interrupt()

    def run(self) -> None:
        """Relay until :meth:`stop`: publish while there is a backlog, else wait for a wake-up."""
        failure_delay = 0.5
        while not self._stop.is_set():
            if not self.publisher.ready:
                self.publisher.wait_ready(1.0)
                continue
            try:
                report = self.relay_batch()
            except SQLAlchemyError as exc:
                log.error("outbox_unavailable", error=" ".join(str(getattr(exc, "orig", None) or exc).split())[:300])
                self._stop.wait(failure_delay)
                failure_delay = min(failure_delay * 2, 30.0)
                continue
            if report.failed:
                # The broker refused or lost some: keep them pending, and do not spin on them.
                log.warning("publish_incomplete", published=report.published, failed=report.failed,
                            retry_in_seconds=round(failure_delay, 2))
                self._stop.wait(failure_delay)
                failure_delay = min(failure_delay * 2, 30.0)
                continue
            failure_delay = 0.5
            if report.claimed < self.batch_size:
                self.wakeup.wait()

    def relay_batch(self) -> BatchReport:
        """Claim up to `batch_size` pending events, publish them, record what the broker confirmed.

        On PostgreSQL the claimed rows stay locked (`FOR UPDATE SKIP LOCKED`) until the marks
        are committed, which keeps other relays off them and blocks no writer. SQLite has only
        a database-wide write lock, and holding it while the broker confirms would make every
        follow wait on the broker: there the batch is read, published, then marked in a second
        short transaction (run one relay on SQLite; a second could publish an event twice).
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                rows = self._claim(conn, lock=True)
                if not rows:
                    return BatchReport(0, 0, {})
                confirmations, elapsed = self._publish(rows)
                confirmed, failures = self._mark(conn, rows, confirmations)
        else:
            with self.engine.connect() as conn:
                rows = self._claim(conn, lock=False)
            if not rows:
                return BatchReport(0, 0, {})
            confirmations, elapsed = self._publish(rows)
            with self.engine.begin() as conn:
                confirmed, failures = self._mark(conn, rows, confirmations)
        if self.metrics is not None:
            self.metrics.observe_batch(len(confirmed), failures, elapsed)
        if confirmed:
            log.info("published", count=len(confirmed), first=rows[0].position, seconds=round(elapsed, 4),
                     **({"event_id": rows[0].event_id} if len(rows) == 1 else {}))
        return BatchReport(len(rows), len(confirmed), failures)

    def _claim(self, conn: sa.Connection, *, lock: bool) -> list[Any]:
        query = (
            sa.select(outbox.c.position, outbox.c.event_id, outbox.c.event_type, outbox.c.body, outbox.c.occurred_at)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.position)
            .limit(self.batch_size)
        )
        return list(conn.execute(query.with_for_update(skip_locked=True) if lock else query).all())

    def _publish(self, rows: list[Any]) -> tuple[dict[str, Confirmation], float]:
        started = time.perf_counter()
        confirmations = self.publisher.publish(
            [
                Outgoing(
                    message_id=row.event_id,
                    routing_key=row.event_type,
                    body=row.body.encode(),
                    timestamp=int(row.occurred_at.timestamp()),
                )
                for row in rows
            ],
            timeout=self.confirm_timeout,
        )
        return confirmations, time.perf_counter() - started

    @staticmethod
    def _mark(
        conn: sa.Connection, rows: list[Any], confirmations: dict[str, Confirmation]
    ) -> tuple[list[int], dict[str, int]]:
        """Record the confirmed as published, count an attempt and its reason on the rest."""
        confirmed = [r.position for r in rows if confirmations[r.event_id] is Confirmation.CONFIRMED]
        if confirmed:
            conn.execute(sa.update(outbox).where(outbox.c.position.in_(confirmed)).values(published_at=datetime.now(UTC)))
        by_reason: dict[str, list[int]] = {}
        for row in rows:
            if confirmations[row.event_id] is not Confirmation.CONFIRMED:
                by_reason.setdefault(confirmations[row.event_id].value, []).append(row.position)
        for reason, positions in by_reason.items():
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.position.in_(positions))
                .values(publish_attempts=outbox.c.publish_attempts + 1, last_error=reason)
            )
        return confirmed, {reason: len(positions) for reason, positions in by_reason.items()}
