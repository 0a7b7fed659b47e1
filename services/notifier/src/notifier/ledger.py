"""The delivery ledger: which mails went out, so no event is mailed twice.

Rows are (event id, recipient, kind). A follow notice also remembers, per follower and followed
user, the last follow mailed, for the re-follow cooldown. Writes are grouped: one commit
covers every mail accepted in the last few milliseconds, and the broker ack of each message
waits for the commit that records it (see :class:`LedgerWriter`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from notifier.errors import LedgerUnavailable

metadata = sa.MetaData()

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(400), nullable=False),
    sa.Column("delivered_at", sa.DateTime(), nullable=False),
)

follow_notices = sa.Table(
    "follow_notices",
    metadata,
    sa.Column("follower_id", sa.BigInteger, primary_key=True),
    sa.Column("followed_id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("followed_at", sa.DateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    event_id: str
    recipient: str
    kind: str


@dataclass(frozen=True, slots=True)
class FollowNotice:
    """The last follow of `followed_id` by `follower_id` that was mailed."""

    follower_id: int
    followed_id: int
    event_id: str
    followed_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A mail the SMTP server accepted."""

    key: DeliveryKey
    message_id: str
    delivered_at: datetime
    notice: FollowNotice | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the ledger knows about one message before it is mailed."""

    delivered: bool
    notice: FollowNotice | None


def _aware(value: object) -> datetime:
    """A timestamp from the driver (a datetime, or SQLite's text) as aware UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class Ledger:
    """Reads and writes the ledger tables; keeps records not yet committed visible to reads."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        # Reads come from each worker thread's own connection, in autocommit (no transaction
        # left open on PostgreSQL between messages).
        # Each reading thread holds one connection for its life, so the pool must not cap them
        # (a capped pool starves the 16th worker): no pool at all.
        self._reader = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        if self._reader.dialect.name == "sqlite":
            sa.event.listen(self._reader, "connect", _sqlite_pragmas)
        self._driver_errors: tuple[type[Exception], ...] = (self._reader.dialect.loaded_dbapi.Error,)
        mark = "?" if self._reader.dialect.paramstyle == "qmark" else "%s"
        # Only the driver's placeholder style is formatted in; the values are bound parameters.
        self._lookup_sql = (
            f"SELECT 1, NULL, NULL FROM deliveries WHERE event_id = {mark} AND recipient = {mark} AND kind = {mark} "  # noqa: S608
            f"UNION ALL SELECT 0, event_id, followed_at FROM follow_notices "
            f"WHERE follower_id = {mark} AND followed_id = {mark}"
        )
        self._local = threading.local()
        self._pending: dict[DeliveryKey, DeliveryRecord] = {}
        self._pending_notices: dict[tuple[int, int], FollowNotice] = {}
        self._lock = threading.Lock()

    def create_schema(self) -> None:
        """Create the tables if they are missing (the ledger has no other schema history yet)."""
        for attempt in range(3):
            try:
                metadata.create_all(self.engine)
                return
            except SQLAlchemyError as exc:
                # Replicas starting together race to create the tables on PostgreSQL; the loser
                # fails on the catalogue, and its next look finds the tables there.
                if attempt == 2:
                    raise LedgerUnavailable(f"cannot create the ledger tables: {_short(exc)}") from None
                time.sleep(0.2 * (attempt + 1))

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def lookup(self, key: DeliveryKey, follower_id: int, followed_id: int) -> Lookup:
        """Whether `key` was mailed, and the last mailed follow of this pair: one round trip.

        This runs once per message, so it skips SQLAlchemy's statement building and uses a
        connection each worker thread keeps.
        """
        with self._lock:
            delivered = key in self._pending
            notice = self._pending_notices.get((follower_id, followed_id))
        if delivered:
            return Lookup(True, notice)
        rows = self._read(self._lookup_sql, (key.event_id, key.recipient, key.kind, follower_id, followed_id))
        for is_delivery, event_id, followed_at in rows:
            if is_delivery:
                delivered = True
            elif notice is None:
                notice = FollowNotice(follower_id, followed_id, str(event_id), _aware(followed_at))
        return Lookup(delivered, notice)

    def is_delivered(self, key: DeliveryKey) -> bool:
        """Whether a mail for `key` was accepted (committed, or about to be)."""
        return self.lookup(key, 0, 0).delivered

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        connection = getattr(self._local, "connection", None)
        try:
            if connection is None:
                connection = self._local.connection = self._reader.raw_connection()
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except self._driver_errors as exc:
            self._local.connection = None
            if connection is not None:
                connection.invalidate()
            raise LedgerUnavailable(" ".join(str(exc).split())[:300]) from None
        except SQLAlchemyError as exc:
            self._local.connection = None
            raise LedgerUnavailable(_short(exc)) from None

    def hold(self, record: DeliveryRecord) -> None:
        """Make `record` visible to reads before it is committed."""
        with self._lock:
            self._pending[record.key] = record
            if record.notice is not None:
                pair = (record.notice.follower_id, record.notice.followed_id)
                current = self._pending_notices.get(pair)
                if current is None or current.followed_at <= record.notice.followed_at:
                    self._pending_notices[pair] = record.notice

    def write(self, records: Iterable[DeliveryRecord]) -> None:
        """Commit `records` in one transaction; a record already there is left as it is."""
        records = list(records)
        if not records:
            return
        insert = sqlite.insert if self.engine.dialect.name == "sqlite" else postgresql.insert
        rows = [
            {
                "event_id": r.key.event_id,
                "recipient": r.key.recipient,
                "kind": r.key.kind,
                "message_id": r.message_id,
                "delivered_at": _naive_utc(r.delivered_at),
            }
            for r in records
        ]
        latest: dict[tuple[int, int], FollowNotice] = {}
        for r in records:
            if r.notice is not None:
                pair = (r.notice.follower_id, r.notice.followed_id)
                if pair not in latest or latest[pair].followed_at <= r.notice.followed_at:
                    latest[pair] = r.notice
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(deliveries).on_conflict_do_nothing(), rows)
                if latest:
                    stmt = insert(follow_notices)
                    conn.execute(
                        stmt.on_conflict_do_update(
                            index_elements=["follower_id", "followed_id"],
                            set_={"event_id": stmt.excluded.event_id, "followed_at": stmt.excluded.followed_at},
                            where=stmt.excluded.followed_at >= follow_notices.c.followed_at,
                        ),
                        [
                            {
                                "follower_id": n.follower_id,
                                "followed_id": n.followed_id,
                                "event_id": n.event_id,
                                "followed_at": _naive_utc(n.followed_at),
                            }
                            for n in latest.values()
                        ],
                    )
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(_short(exc)) from None
        with self._lock:
            for r in records:
                self._pending.pop(r.key, None)
                if r.notice is not None:
                    pair = (r.notice.follower_id, r.notice.followed_id)
                    if self._pending_notices.get(pair) == r.notice:
                        del self._pending_notices[pair]

    def forget(self, keys: Iterable[DeliveryKey]) -> int:
        """Delete deliveries (a forced resend); returns how many rows went."""
        count = 0
        try:
            with self.engine.begin() as conn:
                for key in keys:
                    count += conn.execute(
                        deliveries.delete().where(
                            deliveries.c.event_id == key.event_id,
                            deliveries.c.recipient == key.recipient,
                            deliveries.c.kind == key.kind,
                        )
                    ).rowcount
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(_short(exc)) from None
        return count

    def count(self) -> int:
        """How many deliveries are recorded."""
        count = self._scalar(sa.select(sa.func.count()).select_from(deliveries))
        return count if isinstance(count, int) else 0

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()

    def _scalar(self, query: sa.Select[Any]) -> object:
        try:
            with self.engine.connect() as conn:
                return conn.execute(query).scalar()
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(_short(exc)) from None


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers go on while the writer commits; NORMAL syncs at checkpoints, not each commit.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _short(exc: SQLAlchemyError) -> str:
    return " ".join(str(getattr(exc, "orig", exc) or exc).split())[:300]


Committed = Callable[[], None]


class LedgerWriter:
    """Group commit: records queue up and are written together every `interval` seconds (or
    `max_batch` records); each record's callback runs after the commit that holds it.

    The callbacks are how a message's ack waits for its ledger row without a disk flush each.
    """

    def __init__(self, ledger: Ledger, *, interval: float = 0.02, max_batch: int = 1000,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        self.ledger = ledger
        self.interval = interval
        self.max_batch = max_batch
        self._on_error = on_error
        self._queue: list[tuple[DeliveryRecord, Committed]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> LedgerWriter:
        self._thread.start()
        return self

    def submit(self, record: DeliveryRecord, on_committed: Committed) -> None:
        """Queue `record`; `on_committed` runs (on the writer thread) once it is durable."""
        self.ledger.hold(record)
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
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.1
        while True:
            with self._cond:
                if not self._queue and not self._stopping:
                    self._cond.wait(self.interval)
                if not self._queue:
                    self._idle.set()
                    if self._stopping:
                        return
                    continue
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                self.ledger.write(record for record, _ in batch)
            except LedgerUnavailable as exc:
                if self._on_error is not None:
                    self._on_error(exc)
                with self._cond:
                    self._queue[:0] = batch  # keep them first in line
                    self._cond.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            for _, on_committed in batch:
                on_committed()
            if not self._stopping and len(batch) < self.max_batch:
                # Let the next group gather instead of committing each record alone.
                with self._cond:
                    if len(self._queue) < self.max_batch:
                        self._cond.wait(self.interval)
