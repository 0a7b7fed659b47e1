"""Republishing events kept in the outbox: disaster recovery from the source of truth.

The events go out again with their original ids, so the notifier's ledger folds whatever it had
already mailed. Rows are read in order by keyset pages and left as they are, so a replay is safe
to interrupt and to run twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from social.outbox.retention import not_erased
from social.outbox.schema import outbox_events as outbox
from social.relay.batches import MESSAGE_COLUMNS, message_of
from social.relay.publisher import Confirmation, Publisher


@dataclass(frozen=True)
class ReplayWindow:
    """Which published events to replay: by when they happened, and of which type."""

    since: datetime
    until: datetime | None = None
    event_type: str | None = None


class ReplayStopped(Exception):
    """The broker did not confirm a batch; `resume_since` says where to start again."""

    def __init__(self, message: str, replayed: int, resume_since: datetime) -> None:
        super().__init__(message)
        self.replayed = replayed
        self.resume_since = resume_since


def _pages(engine: Engine, window: ReplayWindow, size: int) -> Iterator[list[Any]]:
    after = 0
    while True:
        query = (
            sa.select(*MESSAGE_COLUMNS)
            .where(outbox.c.position > after, outbox.c.occurred_at >= window.since,
                   outbox.c.published_at.is_not(None), not_erased())
            .order_by(outbox.c.position)
            .limit(size)
        )
        if window.until is not None:
            query = query.where(outbox.c.occurred_at <= window.until)
        if window.event_type is not None:
            query = query.where(outbox.c.event_type == window.event_type)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        yield list(rows)
        after = rows[-1].position


def count_replayable(engine: Engine, window: ReplayWindow) -> int:
    """How many published events fall in the window (a deleted user's, erased, are not replayed)."""
    return sum(len(page) for page in _pages(engine, window, 5000))


def replay_outbox(
    engine: Engine,
    publisher: Publisher,
    window: ReplayWindow,
    *,
    batch_size: int = 500,
    confirm_timeout: float = 10.0,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Publish every published event in the window again, in order; returns how many.

    Raises :class:`ReplayStopped` at the first event the broker does not confirm."""
    replayed = 0
    for page in _pages(engine, window, batch_size):
        confirmations = publisher.publish([message_of(row) for row in page], timeout=confirm_timeout)
        for row in page:
            confirmation = confirmations.get(row.event_id, Confirmation.LOST)
            if confirmation is not Confirmation.CONFIRMED:
                raise ReplayStopped(f"the broker did not confirm event {row.event_id}: {confirmation.value}",
                                    replayed, row.occurred_at)
            replayed += 1
        if on_batch is not None:
            on_batch(replayed)
    return replayed
