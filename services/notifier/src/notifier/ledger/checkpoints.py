"""Stream replay runs and how far each got, kept in the ledger database so a run can resume.

The store keeps a run's options and summary as JSON documents; `notifier.replay` knows their shape.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from microblog_plumbing.databases import database_error
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from notifier.errors import LedgerUnavailable
from notifier.ledger.tables import replay_checkpoints


class UnknownRun(KeyError):
    """No replay run has that id."""


@dataclass(frozen=True)
class SavedRun:
    options: dict[str, Any]
    next_offset: int | None
    finished: bool


class ReplayRuns(Protocol):
    def start(self, options: Mapping[str, Any]) -> str: ...

    def load(self, run_id: str) -> SavedRun: ...

    def save(self, run_id: str, next_offset: int | None, summary: Mapping[str, Any], *, finished: bool) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class SqlReplayRuns:
    """:class:`ReplayRuns` in the `replay_checkpoints` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, options: Mapping[str, Any]) -> str:
        """Record a new run; returns its id (sortable by start time)."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        self._execute(replay_checkpoints.insert().values(run_id=run_id, options=json.dumps(dict(options)),
                                                         updated_at=_now()))
        return run_id

    def load(self, run_id: str) -> SavedRun:
        try:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(replay_checkpoints).where(replay_checkpoints.c.run_id == run_id)).first()
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None
        if row is None:
            raise UnknownRun(run_id)
        return SavedRun(json.loads(row.options), row.next_offset, row.finished_at is not None)

    def save(self, run_id: str, next_offset: int | None, summary: Mapping[str, Any], *, finished: bool) -> None:
        now = _now()
        self._execute(replay_checkpoints.update().where(replay_checkpoints.c.run_id == run_id).values(
            next_offset=next_offset, summary=json.dumps(dict(summary)), updated_at=now,
            finished_at=now if finished else None))

    def _execute(self, statement: sa.Executable) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(statement)
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None
