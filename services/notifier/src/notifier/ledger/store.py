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
from microblog_contracts import MailProfile
from microblog_plumbing.databases import database_error, prepare_sqlite_file, sqlite_pragmas
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from notifier.errors import LedgerUnavailable
from notifier.ledger.announcements import SqlAnnouncements
from notifier.ledger.checkpoints import SqlReplayRuns
from notifier.ledger.gathering import SqlGathering
from notifier.ledger.records import (
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
from notifier.ledger.tables import (
    LEGACY_FOLLOW_NOTICES,
    announcement_recipients,
    batches,
    deleted_users,
    deliveries,
    last_notices,
    metadata,
    notices,
    recipients,
    schedule,
    skips,
    suppressions,
    unfollows,
)


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
        self._mark = "?" if self._reader.dialect.paramstyle == "qmark" else "%s"
        self._sqlite = self.engine.dialect.name == "sqlite"
        self._facts_sql: dict[tuple[bool, bool, bool, int, int], str] = {}
        self._local = threading.local()

    def create_schema(self) -> None:
        """Create every missing table and index (the ledger has no other schema history yet)."""
        for attempt in range(3):
            try:
                metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    for table in metadata.sorted_tables:  # indexes added to tables that existed
                        for index in table.indexes:
                            index.create(conn, checkfirst=True)
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

    # -- before a mail: one round trip -------------------------------------------------------------

    def facts(self, query: FactsQuery) -> Facts:
        """Everything `query` asks about, in one round trip."""
        sql = self._sql_for(query)
        params: list[object] = [query.key.event_id, query.key.recipient, query.key.kind, query.key.event_id]
        if query.notice_key is not None:
            params += [query.notice_key.kind, query.notice_key.subject]
        if query.user_id is not None:
            params.append(query.user_id)
        if query.address is not None:
            params.append(query.address)
            if query.sent_since is not None:
                params += [query.address, naive_utc(query.sent_since), *query.cap_kinds]
        params += query.people
        delivered, notice, profile, suppressed_at, sent, state = False, None, None, None, 0, None
        deleted: set[int] = set()
        for tag, a, b in self._read(sql, tuple(params)):
            if tag == "d":
                delivered = True
            elif tag == "h":
                state = str(a)
            elif tag == "n" and query.notice_key is not None:
                notice = Notice(query.notice_key, str(a), aware(b))
            elif tag == "p":
                profile = MailProfile.model_validate_json(str(a))
            elif tag == "s":
                suppressed_at = aware(b)
            elif tag == "c":
                sent = int(a)
            elif tag == "x":
                deleted.add(int(a))
        return Facts(delivered, notice, profile, suppressed_at, sent, state, frozenset(deleted))

    def _sql_for(self, query: FactsQuery) -> str:
        shape = (query.notice_key is not None, query.user_id is not None, query.address is not None,
                 len(query.cap_kinds) if query.sent_since is not None and query.address is not None else -1,
                 len(query.people))
        sql = self._facts_sql.get(shape)
        if sql is None:
            m = self._mark
            # Only the driver's placeholder style is formatted in; the values are bound parameters.
            # The first branch names the column types, so PostgreSQL can match every branch to them.
            parts = [f"SELECT 'd', CAST(NULL AS VARCHAR(128)), CAST(NULL AS TIMESTAMP) FROM deliveries "  # noqa: S608
                     f"WHERE event_id = {m} AND recipient = {m} AND kind = {m}",
                     f"SELECT 'h', state, NULL FROM notices WHERE event_id = {m}"]  # noqa: S608
            if shape[0]:
                parts.append(f"SELECT 'n', event_id, occurred_at FROM last_notices WHERE kind = {m} AND subject = {m}")  # noqa: S608
            if shape[1]:
                parts.append(f"SELECT 'p', profile, NULL FROM recipients WHERE user_id = {m}")  # noqa: S608
            if shape[2]:
                parts.append(f"SELECT 's', NULL, suppressed_at FROM suppressions WHERE address = {m}")  # noqa: S608
            if shape[3] >= 0:
                kinds = ", ".join([m] * shape[3]) or "NULL"
                parts.append(f"SELECT 'c', CAST(COUNT(*) AS VARCHAR(20)), NULL FROM deliveries WHERE recipient = {m} "  # noqa: S608
                             f"AND delivered_at >= {m} AND kind IN ({kinds})")
            if shape[4]:
                people = ", ".join([m] * shape[4])
                parts.append(f"SELECT 'x', CAST(user_id AS VARCHAR(20)), NULL FROM deleted_users "  # noqa: S608
                             f"WHERE user_id IN ({people})")
            sql = self._facts_sql[shape] = " UNION ALL ".join(parts)
        return sql

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

    # -- group writes --------------------------------------------------------------------------------

    def write(self, records: Sequence[LedgerRecord]) -> None:
        """Commit `records` in one transaction. A delivery or skip already there is left as it is,
        a notice and a profile are replaced only by a later one, a suppression by the latest."""
        if not records:
            return
        try:
            with self.engine.begin() as conn:
                self._write_deliveries(conn, [r for r in records if isinstance(r, DeliveryRecord)])
                self._write_skips(conn, [r for r in records if isinstance(r, SkipRecord)])
                self._write_suppressions(conn, [r for r in records if isinstance(r, SuppressionRecord)])
                self._write_profiles(conn, [r for r in records if isinstance(r, ProfileRecord)])
                self._write_notices(conn, [r for r in records if isinstance(r, NoticeRecord)])
                self._write_unfollows(conn, [r for r in records if isinstance(r, UnfollowRecord)])
                # Last: whatever else this commit holds about a deleted user goes too.
                self._forget(conn, [r for r in records if isinstance(r, ForgetRecord)])
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None

    def _write_deliveries(self, conn: sa.Connection, records: list[DeliveryRecord]) -> None:
        """Every mail sent is one of these rows (and usually a notice's too): written in the driver's
        own SQL, without SQLAlchemy's statement and type processing per row (a third of the ledger
        writer's time per mail)."""
        if not records:
            return
        m = self._mark
        conn.exec_driver_sql(
            "INSERT INTO deliveries (event_id, recipient, kind, message_id, delivered_at) "  # noqa: S608
            f"VALUES ({m}, {m}, {m}, {m}, {m}) ON CONFLICT DO NOTHING",
            [(r.key.event_id, r.key.recipient, r.key.kind, r.message_id, self._stamp(r.delivered_at))
             for r in records])
        latest: dict[NoticeKey, Notice] = {}
        for r in records:
            if r.notice is not None and (r.notice.key not in latest
                                         or latest[r.notice.key].occurred_at <= r.notice.occurred_at):
                latest[r.notice.key] = r.notice
        if latest:
            conn.exec_driver_sql(
                "INSERT INTO last_notices (kind, subject, event_id, occurred_at) "  # noqa: S608
                f"VALUES ({m}, {m}, {m}, {m}) ON CONFLICT (kind, subject) DO UPDATE "
                "SET event_id = excluded.event_id, occurred_at = excluded.occurred_at "
                "WHERE excluded.occurred_at >= last_notices.occurred_at",
                [(n.key.kind, n.key.subject, n.event_id, self._stamp(n.occurred_at)) for n in latest.values()])

    def _stamp(self, moment: datetime) -> datetime | str:
        """A timestamp as the driver gets it from SQLAlchemy: naive UTC; on SQLite, the text
        SQLAlchemy writes there (with microseconds always, so text comparisons order it)."""
        naive = naive_utc(moment)
        return naive.isoformat(" ", "microseconds") if self._sqlite else naive

    def _write_skips(self, conn: sa.Connection, records: list[SkipRecord]) -> None:
        if records:
            conn.execute(self._insert(skips).on_conflict_do_nothing(), [
                {"event_id": r.event_id, "kind": r.kind, "user_id": r.user_id, "recipient_domain": r.recipient_domain,
                 "reason": r.reason, "detail": (r.detail or "")[:500] or None, "skipped_at": naive_utc(r.skipped_at)}
                for r in records])

    def _write_suppressions(self, conn: sa.Connection, records: list[SuppressionRecord]) -> None:
        if not records:
            return
        stmt = self._insert(suppressions)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["address"],
            set_={c: getattr(stmt.excluded, c) for c in ("user_id", "suppressed_at", "reply", "event_id")},
        ), [{"address": r.address, "user_id": r.user_id, "suppressed_at": naive_utc(r.suppressed_at),
             "reply": r.reply[:500], "event_id": r.event_id} for r in records])

    def _write_profiles(self, conn: sa.Connection, records: list[ProfileRecord]) -> None:
        latest: dict[int, ProfileRecord] = {}
        for r in records:
            current = latest.get(r.profile.user_id)
            if current is None or current.profile.version < r.profile.version:
                latest[r.profile.user_id] = r
        if not latest:
            return
        stmt = self._insert(recipients)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"version": stmt.excluded.version, "profile": stmt.excluded.profile,
                  "updated_at": stmt.excluded.updated_at},
            where=stmt.excluded.version > recipients.c.version,
        ), [{"user_id": r.profile.user_id, "version": r.profile.version, "profile": r.profile.model_dump_json(),
             "updated_at": naive_utc(r.updated_at)} for r in latest.values()])

    def _write_notices(self, conn: sa.Connection, records: list[NoticeRecord]) -> None:
        if not records:
            return
        conn.execute(self._insert(notices).on_conflict_do_nothing(), [
            {"event_id": r.event_id, "user_id": r.user_id, "follower_id": r.follower_id, "follower": r.follower,
             "followed_at": naive_utc(r.followed_at), "due_at": naive_utc(r.due_at), "state": "waiting",
             "digest": False} for r in records])
        earliest: dict[int, datetime] = {}
        for r in records:
            earliest[r.user_id] = min(earliest.get(r.user_id, r.due_at), r.due_at)
        stmt = self._insert(schedule)
        # Due no earlier than an open batching window's end (the scheduler would only wait for it).
        due = sa.case((schedule.c.window_until > stmt.excluded.next_due_at, schedule.c.window_until),
                      else_=stmt.excluded.next_due_at)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"next_due_at": sa.case(
                (schedule.c.next_due_at.is_(None), due), (due < schedule.c.next_due_at, due),
                else_=schedule.c.next_due_at)},
        ), [{"user_id": user_id, "next_due_at": naive_utc(due)} for user_id, due in earliest.items()])

    def _write_unfollows(self, conn: sa.Connection, records: list[UnfollowRecord]) -> None:
        if not records:
            return
        stmt = self._insert(unfollows)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["follower_id", "user_id"], set_={"unfollowed_at": stmt.excluded.unfollowed_at},
            where=stmt.excluded.unfollowed_at > unfollows.c.unfollowed_at,
        ), [{"follower_id": r.follower_id, "user_id": r.user_id, "unfollowed_at": naive_utc(r.unfollowed_at)}
            for r in records])

    # -- for operators ------------------------------------------------------------------------------

    def _forget(self, conn: sa.Connection, records: list[ForgetRecord]) -> None:
        """Everything kept about each user, gone: their address (deliveries, suppressions), profile,
        skips, waiting notices (as recipient, and as the follower others' notices name), schedule,
        gathered mails, cooldowns and announcement rows. Only the id and the time stay."""
        for record in records:
            user = record.user_id
            row = conn.execute(sa.select(recipients.c.profile).where(recipients.c.user_id == user)).first()
            addresses = {r[0] for r in conn.execute(sa.select(suppressions.c.address)
                                                    .where(suppressions.c.user_id == user))}
            if row is not None:
                addresses.add(str(MailProfile.model_validate_json(row[0]).email).lower())
            if addresses:
                conn.execute(sa.delete(deliveries).where(deliveries.c.recipient.in_(addresses)))
                conn.execute(sa.delete(suppressions).where(suppressions.c.address.in_(addresses)))
            subject = last_notices.c.subject
            conn.execute(sa.delete(last_notices).where(sa.or_(subject.like(f"{user}:%"), subject.like(f"%:{user}"))))
            for table, column in ((recipients, "user_id"), (skips, "user_id"), (notices, "user_id"),
                                  (notices, "follower_id"), (schedule, "user_id"), (batches, "user_id"),
                                  (unfollows, "user_id"), (unfollows, "follower_id"),
                                  (announcement_recipients, "user_id")):
                conn.execute(sa.delete(table).where(table.c[column] == user))
            conn.execute(self._insert(deleted_users).on_conflict_do_nothing(),
                         {"user_id": user, "deleted_at": naive_utc(record.deleted_at)})

    def skipped(self, *, reason: str | None = None, since: datetime | None = None, until: datetime | None = None,
                limit: int = 1000) -> list[SkipRecord]:
        """Skipped mails, newest first, filtered."""
        query = sa.select(skips).order_by(skips.c.skipped_at.desc()).limit(limit)
        if reason is not None:
            query = query.where(skips.c.reason == reason)
        if since is not None:
            query = query.where(skips.c.skipped_at >= naive_utc(since))
        if until is not None:
            query = query.where(skips.c.skipped_at <= naive_utc(until))
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None
        return [SkipRecord(r.event_id, r.kind, r.user_id, r.recipient_domain, r.reason, r.detail,
                           aware(r.skipped_at)) for r in rows]

    def count(self) -> int:
        """How many deliveries are recorded."""
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar() or 0)
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None

    def replay_runs(self) -> SqlReplayRuns:
        return SqlReplayRuns(self.engine)

    def gathering(self) -> SqlGathering:
        return SqlGathering(self.engine)

    def announcements(self) -> SqlAnnouncements:
        return SqlAnnouncements(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()

    def release_reader(self) -> None:
        """Close this thread's reading connection, if it has one."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.close()
            except SQLAlchemyError:
                connection.invalidate()
