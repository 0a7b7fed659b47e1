"""Group commit: records queue up and are written together every `interval` seconds (or every
`max_batch` records); each record's callback runs after the commit that holds it.

The callbacks are how a message's ack waits for its ledger row without a disk flush of its own.
A commit that fails keeps its records first in line and is tried again with a capped backoff.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from microblog_plumbing.backoff import Backoff

from notifier.errors import LedgerUnavailable
from notifier.ledger.records import LedgerRecord

Committed = Callable[[], None]
Commit = Callable[[Sequence[LedgerRecord]], None]


class GroupCommitWriter:
    """A thread that commits queued records in groups with `commit`."""

    def __init__(self, commit: Commit, *, interval: float = 0.02, max_batch: int = 1000,
                 on_error: Callable[[LedgerUnavailable], None] | None = None,
                 backoff: Backoff | None = None) -> None:
        self._commit = commit
        self.interval = interval
        self.max_batch = max_batch
        self._on_error = on_error
        self._backoff = backoff or Backoff(initial=0.1, cap=5.0)
        self._queue: list[tuple[LedgerRecord, Committed]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> None:
        self._thread.start()

    def submit(self, record: LedgerRecord, on_committed: Committed) -> None:
        """Queue `record`; `on_committed` runs (on the writer thread) once it is durable."""
        with self._cond:
            self._queue.append((record, on_committed))
            self._idle.clear()
            if len(self._queue) >= self.max_batch:
                self._cond.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is committed; False on timeout."""
        with self._cond:
            self._cond.notify()
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._stopping:
                    self._cond.wait(self.interval)
                if not self._queue:
                    self._idle.set()
                    if self._stopping:
                        return
                    continue
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            try:
                self._commit([record for record, _ in batch])
            except LedgerUnavailable as exc:
                if self._on_error is not None:
                    self._on_error(exc)
                with self._cond:
                    self._queue[:0] = batch  # keep them first in line
                    self._cond.wait(self._backoff.next_delay())
                continue
            self._backoff.reset()
            for _, on_committed in batch:
                on_committed()
            if not self._stopping and len(batch) < self.max_batch:
                # Let the next group gather instead of committing each record alone.
                with self._cond:
                    if len(self._queue) < self.max_batch:
                        self._cond.wait(self.interval)
