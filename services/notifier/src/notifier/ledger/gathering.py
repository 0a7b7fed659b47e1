"""The tables behind gathered follow notices, for the scheduler: waiting notices, each recipient's
schedule and lease, composed batches, undone follows, and the activity still to tell social.

Every change a recipient's notices go through is one transaction here; a recipient is only ever
worked on by the replica holding its lease (claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from microblog_contracts import Follower, MailBounced, MailBouncedData, MailProfile

from notifier.ledger.engine import SqlTables
from notifier.ledger.tables import (
    activity_outbox,
    batches,
    deliveries,
    last_notices,
    notices,
    recipients,
    schedule,
    skips,
    suppressions,
)

WAITING, BATCHED, SENT, MERGED, CANCELLED, SKIPPED = "waiting", "batched", "sent", "merged", "cancelled", "skipped"
_CHUNK = 500


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


@dataclass(frozen=True, slots=True)
class DueNotice:
    event_id: str
    follower_id: int
    followed_at: datetime
    due_at: datetime
    digest: bool


@dataclass(frozen=True, slots=True)
class Composed:
    """A gathered mail composed and not yet sent: a crash came between."""

    batch_id: str
    kind: str
    notices: tuple[DueNotice, ...]


@dataclass(frozen=True, slots=True)
class RecipientState:
    """What the scheduler knows of one recipient when their notices are due."""

    user_id: int
    profile: MailProfile | None
    window_until: datetime | None
    composed: Composed | None
    due: tuple[DueNotice, ...]
    suppressed_at: datetime | None
    sent_recently: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """Notices deliberately not sent, with the reason and detail the skips table keeps."""

    event_ids: tuple[str, ...]
    reason: str
    detail: str


def _due(row: Any, now: datetime) -> DueNotice:
    return DueNotice(row.event_id, row.follower_id, _aware(row.followed_at) or now, _aware(row.due_at) or now,
                     bool(row.digest))


class SqlGathering(SqlTables):
    """The scheduler's reads and writes, on the ledger's database."""

    # -- whose notices are due, and who works on them --------------------------------------------

    def claim(self, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
        """Take the lease of up to `limit` recipients whose notices are due and whom no live lease
        holds; returns their user ids."""
        due = (sa.select(schedule.c.user_id)
               .where(schedule.c.next_due_at <= _naive(now),
                      sa.or_(schedule.c.lease_until.is_(None), schedule.c.lease_until < _naive(now)))
               .order_by(schedule.c.next_due_at).limit(limit))
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        with self._begin() as conn:
            rows = conn.execute(
                sa.update(schedule).where(schedule.c.user_id.in_(due.scalar_subquery()))
                .values(lease_owner=owner, lease_until=_naive(now + lease)).returning(schedule.c.user_id))
            return [int(r[0]) for r in rows]

    def renew(self, user_id: int, owner: str, until: datetime) -> bool:
        """Extend a lease this owner still holds; False if it was lost."""
        with self._begin() as conn:
            done = conn.execute(sa.update(schedule).where(schedule.c.user_id == user_id,
                                                          schedule.c.lease_owner == owner)
                                .values(lease_until=_naive(until)))
            return bool(done.rowcount)

    def next_due(self) -> datetime | None:
        """The earliest time any recipient's notices are due (leased or not)."""
        with self._begin() as conn:
            return _aware(conn.execute(sa.select(sa.func.min(schedule.c.next_due_at))).scalar())

    # -- one recipient -----------------------------------------------------------------------------

    def load(self, user_id: int, now: datetime, *, cap_since: datetime | None, cap_kinds: tuple[str, ...]
             ) -> RecipientState:
        """The recipient's profile, window, unsent batch and due notices (oldest first)."""
        with self._begin() as conn:
            row = conn.execute(sa.select(recipients.c.profile).where(recipients.c.user_id == user_id)).first()
            profile = MailProfile.model_validate_json(row[0]) if row else None
            window = conn.execute(sa.select(schedule.c.window_until).where(schedule.c.user_id == user_id)).scalar()
            composed_row = conn.execute(sa.select(batches.c.batch_id, batches.c.kind).where(
                batches.c.user_id == user_id, batches.c.state == "composed")).first()
            columns = (notices.c.event_id, notices.c.follower_id, notices.c.followed_at, notices.c.due_at,
                       notices.c.digest)
            composed = None
            if composed_row is not None:
                held = conn.execute(sa.select(*columns).where(notices.c.batch_id == composed_row.batch_id)
                                    .order_by(notices.c.followed_at)).all()
                composed = Composed(composed_row.batch_id, composed_row.kind, tuple(_due(r, now) for r in held))
            due = conn.execute(
                sa.select(*columns)
                .where(notices.c.user_id == user_id, notices.c.state == WAITING, notices.c.due_at <= _naive(now))
                .order_by(notices.c.followed_at)).all()
            suppressed_at = sent = None
            if profile is not None:
                address = str(profile.email).lower()
                suppressed_at = conn.execute(sa.select(suppressions.c.suppressed_at)
                                             .where(suppressions.c.address == address)).scalar()
                if cap_since is not None:
                    sent = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
                        deliveries.c.recipient == address, deliveries.c.delivered_at >= _naive(cap_since),
                        deliveries.c.kind.in_(cap_kinds))).scalar()
        return RecipientState(
            user_id, profile, _aware(window), composed,
            tuple(_due(r, now) for r in due),
            _aware(suppressed_at), int(sent or 0))

    def followers(self, event_ids: Sequence[str]) -> list[Follower]:
        """The followers of these notices, in their order."""
        with self._begin() as conn:
            rows = dict(conn.execute(sa.select(notices.c.event_id, notices.c.follower)
                                     .where(notices.c.event_id.in_(list(event_ids)))).all())
        return [Follower.model_validate_json(rows[e]) for e in event_ids if e in rows]

    def undone(self, user_id: int, due: Sequence[DueNotice]) -> set[str]:
        """Due notices whose follow was undone after it happened."""
        if not due:
            return set()
        from notifier.ledger.tables import unfollows

        with self._begin() as conn:
            undone = dict(conn.execute(sa.select(unfollows.c.follower_id, unfollows.c.unfollowed_at)
                                       .where(unfollows.c.user_id == user_id)).all())
        return {n.event_id for n in due
                if n.follower_id in undone and _aware(undone[n.follower_id]) > n.followed_at}  # type: ignore[operator]

    def mailed_within(self, user_id: int, due: Sequence[DueNotice], cooldown: timedelta, kind: str) -> set[str]:
        """Due notices about a follower whose earlier follow was mailed inside the cooldown."""
        if not due:
            return set()
        subjects = {f"{n.follower_id}:{user_id}": n for n in due}
        found: dict[str, tuple[str, datetime]] = {}
        with self._begin() as conn:
            for part in _chunks(list(subjects)):
                for subject, event_id, at in conn.execute(
                        sa.select(last_notices.c.subject, last_notices.c.event_id, last_notices.c.occurred_at)
                        .where(last_notices.c.kind == kind, last_notices.c.subject.in_(part))):
                    found[subject] = (event_id, _aware(at))  # type: ignore[assignment]
        return {n.event_id for subject, n in subjects.items() if subject in found
                and found[subject][0] != n.event_id and abs(n.followed_at - found[subject][1]) < cooldown}

    # -- what becomes of due notices -----------------------------------------------------------------

    def set_aside(self, user_id: int, owner: str, now: datetime, *, skipped: Iterable[Skipped] = (),
                  cancelled: Sequence[str] = (), to_digest: Sequence[str] = (),
                  digest_at: datetime | None = None, entries: Sequence[str] = (), domain: str | None = None,
                  bounce: tuple[str, str, str] | None = None, abandon_batch: str | None = None) -> None:
        """Skip, cancel, or move to the digest, in one transaction; `bounce`
        (address, reply, event id) suppresses an address the SMTP server refused for good."""
        with self._begin() as conn:
            if abandon_batch is not None:
                conn.execute(sa.update(batches).where(batches.c.batch_id == abandon_batch).values(state="skipped"))
            if bounce is not None:
                address, reply, event_id = bounce
                stmt = self._insert(suppressions)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["address"],
                    set_={c: getattr(stmt.excluded, c) for c in ("user_id", "suppressed_at", "reply", "event_id")},
                ), [{"address": address, "user_id": user_id, "suppressed_at": _naive(now), "reply": reply[:500],
                     "event_id": event_id}])
                self._tell(conn, [MailBounced(data=MailBouncedData(
                    user_id=user_id, address=address, reply=reply[:500], event_id=event_id, bounced_at=now)
                ).model_dump_json()], now, kind="bounce")
            for group in skipped:
                self._mark(conn, group.event_ids, SKIPPED)
                self._skips(conn, user_id, group.event_ids, group.reason, group.detail, now, domain)
            if cancelled:
                self._mark(conn, cancelled, CANCELLED)
                self._skips(conn, user_id, cancelled, "follow_undone", "the follow was undone", now, domain)
            if to_digest and digest_at is not None:
                self._skips(conn, user_id, to_digest, "daily_cap",
                            f"moved into the digest of {digest_at.isoformat(timespec='minutes')}", now, domain)
                for part in _chunks(list(to_digest)):
                    conn.execute(sa.update(notices).where(notices.c.event_id.in_(part))
                                 .values(digest=True, due_at=_naive(digest_at)))
            self._tell(conn, entries, now)

    def compose(self, user_id: int, batch_id: str, kind: str, event_ids: Sequence[str], now: datetime) -> None:
        """Fix what a gathered mail holds, before it is sent."""
        with self._begin() as conn:
            conn.execute(self._insert(batches).on_conflict_do_nothing(), [{
                "batch_id": batch_id, "user_id": user_id, "kind": kind, "state": "composed",
                "notice_count": len(event_ids), "created_at": _naive(now)}])
            self._mark(conn, event_ids, BATCHED, batch_id=batch_id)

    def sent(self, user_id: int, batch_id: str, *, key_event_id: str, address: str, kind: str, message_id: str,
             event_ids: Sequence[str], followers: dict[str, int], now: datetime, entries: Sequence[str]) -> None:
        """The mail was accepted: record it (folding any later copy) and the notices it held."""
        with self._begin() as conn:
            conn.execute(sa.update(batches).where(batches.c.batch_id == batch_id)
                         .values(state="sent", sent_at=_naive(now)))
            self._mark(conn, event_ids, SENT if len(event_ids) == 1 else MERGED)
            if len(event_ids) > 1:  # each notice shows, in the skipped list, the mail it went in
                detail = f"merged into the mail of {now.isoformat(timespec='seconds')}"
                self._skips(conn, user_id, event_ids, "merged", detail, now, address.rsplit("@", 1)[-1])
            conn.execute(self._insert(deliveries).on_conflict_do_nothing(), [{
                "event_id": key_event_id, "recipient": address, "kind": kind, "message_id": message_id,
                "delivered_at": _naive(now)}])
            stmt = self._insert(last_notices)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["kind", "subject"],
                set_={"event_id": stmt.excluded.event_id, "occurred_at": stmt.excluded.occurred_at}),
                [{"kind": "follower_email", "subject": f"{follower_id}:{user_id}", "event_id": event_id,
                  "occurred_at": _naive(now)} for event_id, follower_id in followers.items()])
            self._tell(conn, entries, now)

    def release(self, user_id: int, owner: str, *, window_until: datetime | None, postpone_until: datetime | None,
                keep_window: bool = True) -> None:
        """Let go of the lease; the next due time is the earliest waiting notice (not inside an open
        window), or `postpone_until`."""
        # A composed mail not yet sent (a send that failed) counts as waiting.
        waiting = (sa.select(sa.func.min(notices.c.due_at))
                   .where(notices.c.user_id == user_id, notices.c.state.in_((WAITING, BATCHED))).scalar_subquery())
        if postpone_until is not None:
            next_due: sa.ColumnElement[datetime] = sa.case((waiting.is_(None), None), else_=_naive(postpone_until))
        elif window_until is not None:
            next_due = sa.case((waiting < _naive(window_until), _naive(window_until)), else_=waiting)
        else:
            next_due = waiting
        values: dict[str, object] = {"lease_owner": None, "lease_until": None, "next_due_at": next_due}
        if not keep_window or window_until is not None:
            values["window_until"] = _naive(window_until) if window_until is not None else None
        with self._begin() as conn:
            conn.execute(sa.update(schedule).where(schedule.c.user_id == user_id, schedule.c.lease_owner == owner)
                         .values(**values))

    # -- telling social ------------------------------------------------------------------------------

    def pending_activity(self, limit: int) -> list[tuple[int, str, str]]:
        """What is still to be told: (row id, "entry" or "bounce", JSON), oldest first."""
        with self._begin() as conn:
            return [(int(i), str(k), str(e)) for i, k, e in conn.execute(
                sa.select(activity_outbox.c.id, activity_outbox.c.kind, activity_outbox.c.body)
                .order_by(activity_outbox.c.id).limit(limit))]

    def told(self, ids: Sequence[int]) -> None:
        with self._begin() as conn:
            conn.execute(sa.delete(activity_outbox).where(activity_outbox.c.id.in_(list(ids))))

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _mark(conn: sa.Connection, event_ids: Sequence[str], state: str, *, batch_id: str | None = None) -> None:
        values: dict[str, object] = {"state": state}
        if batch_id is not None:
            values["batch_id"] = batch_id
        for part in _chunks(list(event_ids)):
            conn.execute(sa.update(notices).where(notices.c.event_id.in_(part)).values(**values))

    def _skips(self, conn: sa.Connection, user_id: int, event_ids: Sequence[str], reason: str, detail: str,
               now: datetime, domain: str | None) -> None:
        rows = [{"event_id": e, "kind": "follower_email", "user_id": user_id, "recipient_domain": domain,
                 "reason": reason, "detail": detail[:500], "skipped_at": _naive(now)} for e in event_ids]
        for start in range(0, len(rows), _CHUNK):
            conn.execute(self._insert(skips).on_conflict_do_nothing(), rows[start:start + _CHUNK])

    @staticmethod
    def _tell(conn: sa.Connection, bodies: Sequence[str], now: datetime, *, kind: str = "entry") -> None:
        rows = [{"kind": kind, "body": b, "created_at": _naive(now)} for b in bodies]
        for start in range(0, len(rows), _CHUNK):
            conn.execute(sa.insert(activity_outbox), rows[start:start + _CHUNK])
