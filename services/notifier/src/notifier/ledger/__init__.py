"""The delivery ledger: which mails went out, so none goes twice.

:class:`Ledger` is all its callers see: `lookup` before a mail, `record(..., then)` after the SMTP
server accepted it (`then` runs once the record is committed: that is when the message may be
acked), `start/stop/flush` for its group-commit writer, and `create_schema`, which makes every
table of the notifier's database. Records waiting for their commit are already visible to
`lookup`, so a second copy of an event arriving meanwhile is folded, not mailed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from notifier.errors import LedgerUnavailable
from notifier.ledger.checkpoints import ReplayRuns
from notifier.ledger.records import DeliveryKey, DeliveryRecord, Lookup, Notice, NoticeKey
from notifier.ledger.writer import GroupCommitWriter

__all__ = ["DeliveryKey", "DeliveryRecord", "Ledger", "LedgerStore", "Lookup", "Notice", "NoticeKey"]


class LedgerStore(Protocol):
    """Where the ledger keeps its records: :class:`notifier.ledger.store.SqlStore`, or a fake."""

    def create_schema(self) -> None: ...

    def ping(self) -> bool: ...

    def lookup(self, key: DeliveryKey, notice_key: NoticeKey | None) -> Lookup: ...

    def write(self, records: Sequence[DeliveryRecord]) -> None: ...

    def replay_runs(self) -> ReplayRuns: ...

    def dispose(self) -> None: ...


class Ledger:
    """Reads and group-writes delivery records; the one owner of its store and writer."""

    def __init__(self, store: LedgerStore, *, commit_interval: float = 0.02, max_batch: int = 1000,
                 on_error: Callable[[LedgerUnavailable], None] | None = None) -> None:
        self._store = store
        self._held: dict[DeliveryKey, DeliveryRecord] = {}
        self._held_notices: dict[NoticeKey, Notice] = {}
        self._lock = threading.Lock()
        self._writer = GroupCommitWriter(self._commit, interval=commit_interval, max_batch=max_batch,
                                         on_error=on_error)
        self.replay_runs = store.replay_runs()

    # -- life -------------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create every table of the notifier's database that is missing."""
        self._store.create_schema()

    def start(self) -> None:
        """Start the group-commit writer."""
        self._writer.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record so far is committed; False on timeout."""
        return self._writer.flush(timeout)

    def stop(self) -> None:
        """Commit what is queued and stop the writer."""
        self._writer.stop()

    def dispose(self) -> None:
        """Close the database connections."""
        self._store.dispose()

    def ping(self) -> bool:
        return self._store.ping()

    # -- reading and recording -------------------------------------------------------------------

    def lookup(self, key: DeliveryKey, notice_key: NoticeKey | None = None) -> Lookup:
        """Whether `key` was mailed (committed, or about to be), and the last notice about
        `notice_key`; raises LedgerUnavailable."""
        with self._lock:
            held = key in self._held
            held_notice = self._held_notices.get(notice_key) if notice_key is not None else None
        if held:
            return Lookup(True, held_notice)
        found = self._store.lookup(key, notice_key)
        if held_notice is not None and (found.notice is None or found.notice.occurred_at <= held_notice.occurred_at):
            return Lookup(found.delivered, held_notice)
        return found

    def record(self, record: DeliveryRecord, then: Callable[[], None]) -> None:
        """Record a mail the server accepted; `then` runs (on the writer's thread) once committed."""
        with self._lock:
            self._held[record.key] = record
            notice = record.notice
            if notice is not None:
                current = self._held_notices.get(notice.key)
                if current is None or current.occurred_at <= notice.occurred_at:
                    self._held_notices[notice.key] = notice
        self._writer.submit(record, then)

    def _commit(self, records: Sequence[DeliveryRecord]) -> None:
        self._store.write(records)
        with self._lock:
            for r in records:
                self._held.pop(r.key, None)
                if r.notice is not None and self._held_notices.get(r.notice.key) == r.notice:
                    del self._held_notices[r.notice.key]
