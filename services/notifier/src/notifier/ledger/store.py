"""The ledger's tables on SQLite or PostgreSQL: the reads a message needs and the group writes.

Reads run once per message, so they skip SQLAlchemy's statement building and use a connection
each worker thread keeps (in autocommit: no transaction stays open on PostgreSQL between
messages). Writes are one transaction per group commit (see :mod:`notifier.ledger.writer`).
Driver and SQLAlchemy errors leave this module as :class:`LedgerUnavailable`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from microblog_plumbing.databases import database_error, prepare_sqlite_file, sqlite_pragmas
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from notifier.errors import LedgerUnavailable
from notifier.ledger.checkpoints import SqlReplayRuns
from notifier.ledger.records import DeliveryKey, DeliveryRecord, Lookup, Notice, NoticeKey
from notifier.ledger.tables import LEGACY_FOLLOW_NOTICES, deliveries, last_notices, metadata


def aware(value: object) -> datetime:
    """A timestamp from the driver (a datetime, or SQLite's text) as aware UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def naive_utc(moment: datetime) -> datetime:
    """How timestamps are stored: UTC, without a zone (the same on SQLite and PostgreSQL)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


class SqlStore:
    """The ledger tables in the database at `url`."""

    def __init__(self, url: str) -> None:
        prepare_sqlite_file(url)
        self.engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        # Each reading thread holds one connection for its life, so the pool must not cap them
        # (a capped pool starves the 16th worker): no pool at all.
        self._reader = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        for engine in (self.engine, self._reader):
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", sqlite_pragmas)
        self._insert = sqlite.insert if self.engine.dialect.name == "sqlite" else postgresql.insert
        self._driver_errors: tuple[type[Exception], ...] = (self._reader.dialect.loaded_dbapi.Error,)
        mark = "?" if self._reader.dialect.paramstyle == "qmark" else "%s"
        # Only the driver's placeholder style is formatted in; the values are bound parameters.
        self._lookup_sql = (
            f"SELECT 1, NULL, NULL FROM deliveries WHERE event_id = {mark} AND recipient = {mark} AND kind = {mark} "  # noqa: S608
            f"UNION ALL SELECT 0, event_id, occurred_at FROM last_notices WHERE kind = {mark} AND subject = {mark}"
        )
        self._local = threading.local()

    def create_schema(self) -> None:
        """Create every missing table (the ledger has no other schema history yet)."""
        for attempt in range(3):
            try:
                metadata.create_all(self.engine)
                self._adopt_legacy_notices()
                return
            except SQLAlchemyError as exc:
                # Replicas starting together race to create the tables on PostgreSQL; the loser
                # fails on the catalogue, and its next look finds the tables there.
                if attempt == 2:
                    raise LedgerUnavailable(f"cannot create the ledger tables: {database_error(exc)}") from None
                time.sleep(0.2 * (attempt + 1))

    def _adopt_legacy_notices(self) -> None:
        """Notifier 1.0 kept the follower e-mail's cooldown in `follow_notices`: carry it over once."""
        with self.engine.begin() as conn:
            if not sa.inspect(conn).has_table(LEGACY_FOLLOW_NOTICES):
                return
            if conn.execute(sa.select(sa.func.count()).select_from(last_notices)).scalar():
                return
            old = sa.table(LEGACY_FOLLOW_NOTICES, sa.column("follower_id"), sa.column("followed_id"),
                           sa.column("event_id"), sa.column("followed_at"))
            rows = [{"kind": "follower_email", "subject": f"{r.follower_id}:{r.followed_id}",
                     "event_id": r.event_id, "occurred_at": naive_utc(aware(r.followed_at))}
                    for r in conn.execute(sa.select(old))]
            if rows:
                conn.execute(self._insert(last_notices).on_conflict_do_nothing(), rows)

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def lookup(self, key: DeliveryKey, notice_key: NoticeKey | None) -> Lookup:
        """Whether `key` was mailed, and the last notice about `notice_key`: one round trip."""
        kind, subject = (notice_key.kind, notice_key.subject) if notice_key else ("", "")
        rows = self._read(self._lookup_sql, (key.event_id, key.recipient, key.kind, kind, subject))
        delivered, notice = False, None
        for is_delivery, event_id, occurred_at in rows:
            if is_delivery:
                delivered = True
            elif notice_key is not None:
                notice = Notice(notice_key, str(event_id), aware(occurred_at))
        return Lookup(delivered, notice)

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
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
            raise LedgerUnavailable(database_error(exc)) from None
        except SQLAlchemyError as exc:
            self._local.connection = None
            raise LedgerUnavailable(database_error(exc)) from None

    def write(self, records: Sequence[DeliveryRecord]) -> None:
        """Commit `records` in one transaction; a delivery already there is left as it is, a notice
        is replaced only by a later one."""
        if not records:
            return
        rows = [{"event_id": r.key.event_id, "recipient": r.key.recipient, "kind": r.key.kind,
                 "message_id": r.message_id, "delivered_at": naive_utc(r.delivered_at)} for r in records]
        latest: dict[NoticeKey, Notice] = {}
        for r in records:
            if r.notice is not None and (r.notice.key not in latest
                                         or latest[r.notice.key].occurred_at <= r.notice.occurred_at):
                latest[r.notice.key] = r.notice
        try:
            with self.engine.begin() as conn:
                conn.execute(self._insert(deliveries).on_conflict_do_nothing(), rows)
                if latest:
                    stmt = self._insert(last_notices)
                    conn.execute(
                        stmt.on_conflict_do_update(
                            index_elements=["kind", "subject"],
                            set_={"event_id": stmt.excluded.event_id, "occurred_at": stmt.excluded.occurred_at},
                            where=stmt.excluded.occurred_at >= last_notices.c.occurred_at,
                        ),
                        [{"kind": n.key.kind, "subject": n.key.subject, "event_id": n.event_id,
                          "occurred_at": naive_utc(n.occurred_at)} for n in latest.values()],
                    )
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None

    def count(self) -> int:
        """How many deliveries are recorded."""
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar() or 0)
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None

    def replay_runs(self) -> SqlReplayRuns:
        return SqlReplayRuns(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()
