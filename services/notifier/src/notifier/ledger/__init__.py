"""The delivery ledger: which mails went out, so none goes twice, and what the notifier must know
before the next one (a recipient's latest profile, a refused address, the daily cap).

:class:`Ledger` is all its callers see: `facts` before a mail, `record(..., then)` after it was
sent or deliberately skipped (`then` runs once the record is committed: that is when the message
may be acked), `start/stop/flush` for its group-commit writer, and `create_schema`, which makes
every table of the notifier's database. Records waiting for their commit are already visible to
`facts`, so a second copy of an event arriving meanwhile is folded, not mailed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from notifier.errors import LedgerUnavailable
from notifier.ledger.checkpoints import ReplayRuns
from notifier.ledger.records import (
    DeliveryKey,
    DeliveryRecord,
    Facts,
    FactsQuery,
    ForgetRecord,
    LedgerRecord,
    Notice,
    NoticeKey,
    NoticeRecord,
    ProfileRecord,
    SkipRecord,
    SuppressionRecord,
    UnfollowRecord,
)
from notifier.ledger.writer import GroupCommitWriter

if TYPE_CHECKING:
    from notifier.ledger.announcements import SqlAnnouncements
    from notifier.ledger.gathering import SqlGathering

__all__ = ["DeliveryKey", "DeliveryRecord", "Facts", "FactsQuery", "ForgetRecord", "Ledger", "LedgerRecord",
           "LedgerStore",
           "Notice", "NoticeKey", "NoticeRecord", "ProfileRecord", "SkipRecord", "SuppressionRecord", "UnfollowRecord"]


class LedgerStore(Protocol):
    """Where the ledger keeps its records: :class:`notifier.ledger.store.SqlStore`, or a fake."""

    def create_schema(self) -> None: ...

    def ping(self) -> bool: ...

    def facts(self, query: FactsQuery) -> Facts: ...

    def write(self, records: Sequence[LedgerRecord]) -> None: ...

    def skipped(self, *, reason: str | None = None, since: datetime | None = None, until: datetime | None = None,
                limit: int = 1000) -> list[SkipRecord]: ...

    def replay_runs(self) -> ReplayRuns: ...

    def gathering(self) -> SqlGathering: ...

    def announcements(self) -> SqlAnnouncements: ...

    def dispose(self) -> None: ...

    def release_reader(self) -> None: ...


class _Held:
    """Records queued for the next commit, as `facts` must already see them."""

    def __init__(self) -> None:
        self.deliveries: dict[DeliveryKey, DeliveryRecord] = {}
        self.notices: dict[NoticeKey, Notice] = {}
        self.profiles: dict[int, ProfileRecord] = {}
        self.suppressions: dict[str, SuppressionRecord] = {}
        self.per_address: Counter[tuple[str, str]] = Counter()  # (address, kind) -> deliveries
        self.notice_events: set[str] = set()  # event ids of follow notices about to be held
        self.deleted: set[int] = set()  # users whose account is being forgotten

    def add(self, record: LedgerRecord) -> None:
        if isinstance(record, DeliveryRecord):
            self.deliveries[record.key] = record
            self.per_address[(record.key.recipient, record.key.kind)] += 1
            notice = record.notice
            if notice is not None:
                current = self.notices.get(notice.key)
                if current is None or current.occurred_at <= notice.occurred_at:
                    self.notices[notice.key] = notice
        elif isinstance(record, ProfileRecord):
            current_profile = self.profiles.get(record.profile.user_id)
            if current_profile is None or current_profile.profile.version < record.profile.version:
                self.profiles[record.profile.user_id] = record
        elif isinstance(record, SuppressionRecord):
            self.suppressions[record.address] = record
        elif isinstance(record, NoticeRecord):
            self.notice_events.add(record.event_id)
        elif isinstance(record, ForgetRecord):
            self.deleted.add(record.user_id)

    def release(self, record: LedgerRecord) -> None:
        if isinstance(record, DeliveryRecord):
            if self.deliveries.pop(record.key, None) is not None:
                self.per_address[(record.key.recipient, record.key.kind)] -= 1
                if not self.per_address[(record.key.recipient, record.key.kind)]:
                    del self.per_address[(record.key.recipient, record.key.kind)]
            if record.notice is not None and self.notices.get(record.notice.key) == record.notice:
                del self.notices[record.notice.key]
        elif isinstance(record, ProfileRecord):
            if self.profiles.get(record.profile.user_id) is record:
                del self.profiles[record.profile.user_id]
        elif isinstance(record, SuppressionRecord) and self.suppressions.get(record.address) is record:
            del self.suppressions[record.address]
        elif isinstance(record, NoticeRecord):
            self.notice_events.discard(record.event_id)
        elif isinstance(record, ForgetRecord):
            self.deleted.discard(record.user_id)

    def overlay(self, query: FactsQuery, found: Facts) -> Facts:
        """`found` (committed) with what is held on top."""
        notice = self.notices.get(query.notice_key) if query.notice_key is not None else None
        if notice is None or (found.notice is not None and found.notice.occurred_at > notice.occurred_at):
            notice = found.notice
        held_profile = self.profiles.get(query.user_id) if query.user_id is not None else None
        profile = found.profile
        if held_profile is not None and (profile is None or profile.version < held_profile.profile.version):
            profile = held_profile.profile
        suppression = self.suppressions.get(query.address) if query.address is not None else None
        suppressed_at = suppression.suppressed_at if suppression is not None else found.suppressed_at
        sent = found.sent_recently
        if query.sent_since is not None and query.address is not None:
            sent += sum(self.per_address.get((query.address, kind), 0) for kind in query.cap_kinds)
        held_state = "waiting" if query.key.event_id in self.notice_events else None
        deleted = found.deleted | {u for u in query.people if u in self.deleted}
        return Facts(found.delivered or query.key in self.deliveries, notice, profile, suppressed_at, sent,
                     found.notice_state or held_state, frozenset(deleted))


class Ledger:
    """Reads and group-writes the ledger; the one owner of its store and writer."""

    def __init__(self, store: LedgerStore, *, commit_interval: float = 0.02, max_batch: int = 1000,
                 on_error: Callable[[LedgerUnavailable], None] | None = None) -> None:
        self._store = store
        self._held = _Held()
        self._lock = threading.Lock()
        self._writer = GroupCommitWriter(self._commit, interval=commit_interval, max_batch=max_batch,
                                         on_error=on_error)
        self.replay_runs = store.replay_runs()

    def gathering(self) -> SqlGathering:
        """The tables of waiting follow notices, for the scheduler (which owns what it does there)."""
        return self._store.gathering()

    def announcements(self) -> SqlAnnouncements:
        """The tables of announcements, for their intake and the bulk senders."""
        return self._store.announcements()

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

    def release_reader(self) -> None:
        """Close the calling thread's reading connection (a worker that stops sending for a while:
        with up to MAIL_MAX_CONNECTIONS workers per replica, idle ones must not hold the database's
        connections); the thread's next read opens another."""
        self._store.release_reader()

    def ping(self) -> bool:
        return self._store.ping()

    # -- reading and recording -------------------------------------------------------------------

    def facts(self, query: FactsQuery) -> Facts:
        """What `query` asks, committed or about to be; raises LedgerUnavailable."""
        with self._lock:
            if query.key in self._held.deliveries:
                return self._held.overlay(query, Facts(True))
        found = self._store.facts(query)
        with self._lock:
            return self._held.overlay(query, found)

    def lookup(self, key: DeliveryKey, notice_key: NoticeKey | None = None) -> Facts:
        """Whether `key` was mailed, and the last notice about `notice_key`."""
        return self.facts(FactsQuery(key, notice_key))

    def record(self, record: LedgerRecord, then: Callable[[], None]) -> None:
        """Record a mail sent or skipped, a refused address or a profile; `then` runs (on the
        writer's thread) once it is committed."""
        with self._lock:
            self._held.add(record)
        self._writer.submit(record, then)

    def skipped(self, *, reason: str | None = None, since: datetime | None = None, until: datetime | None = None,
                limit: int = 1000) -> list[SkipRecord]:
        """Mails deliberately not sent, newest first (`notifier skipped list`)."""
        return self._store.skipped(reason=reason, since=since, until=until, limit=limit)

    def _commit(self, records: Sequence[LedgerRecord]) -> None:
        self._store.write(records)
        with self._lock:
            for record in records:
                self._held.release(record)
