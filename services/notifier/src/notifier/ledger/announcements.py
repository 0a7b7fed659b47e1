"""The tables behind announcements: what social asked for (intake) and what the bulk senders have
done with it (claims, outcomes, the shared rate limit).

Intake is idempotent and order-free: each event is kept once whatever order the broker brings
them in (a cancel may even come before its announcement). A recipient is worked on by the sender
holding its lease; its outcome and the activity entry that tells social of it are one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from microblog_contracts import AnnouncementCreatedData, MailBounced, MailBouncedData, MailProfile

from notifier.ledger.engine import SqlTables
from notifier.ledger.tables import (
    activity_outbox,
    announcement_chunks,
    announcement_recipients,
    announcements,
    rate_limits,
    recipients,
    skips,
    suppressions,
)

PENDING, SENT, SKIPPED, FAILED = "pending", "sent", "skipped", "failed"
ANNOUNCEMENT_KIND = "announcement"
_CHUNK = 500


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Announcement:
    """An announcement as the senders see it."""

    announcement_id: str
    data: AnnouncementCreatedData | None  # None while only its cancel has come
    chunks_expected: int
    chunks_received: int
    cancelled_at: datetime | None

    @property
    def complete(self) -> bool:
        """Its text and every byte of its attachments are here: it can go."""
        return self.data is not None and self.chunks_received >= self.chunks_expected


@dataclass(frozen=True, slots=True)
class Claimed:
    """One recipient a sender holds: the newest profile known, and whether the address was refused."""

    user_id: int
    profile: MailProfile | None
    suppressed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one recipient's mail, and the activity entry (JSON) that tells social. A
    skipped or failed mail is also kept in `skips` (`notifier skipped list`); `refused` (the SMTP
    server's reply) suppresses the address and tells social of the bounce."""

    user_id: int
    state: str
    reason: str | None
    entry: str
    detail: str | None = None
    address: str | None = None
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an announcement got, on the notifier's side."""

    announcement_id: str
    subject: str | None
    counts: dict[tuple[str, str | None], int]
    cancelled_at: datetime | None


class SqlAnnouncements(SqlTables):
    """Announcement intake and sending, on the ledger's database."""

    # -- intake -----------------------------------------------------------------------------------

    def created(self, data: AnnouncementCreatedData, now: datetime) -> None:
        """Keep an announcement (once; a cancel that came first stays)."""
        stmt = self._insert(announcements)
        with self._begin() as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["announcement_id"],
                set_={"created": stmt.excluded.created, "chunks": stmt.excluded.chunks},
                where=announcements.c.created.is_(None),
            ), {"announcement_id": data.announcement_id, "created": data.model_dump_json(),
                "chunks": sum(a.chunks for a in data.attachments), "received_at": _naive(now)})

    def chunk(self, announcement_id: str, attachment: int, chunk: int, data: bytes) -> None:
        with self._begin() as conn:
            conn.execute(self._insert(announcement_chunks).on_conflict_do_nothing(), {
                "announcement_id": announcement_id, "attachment": attachment, "chunk": chunk, "data": data})

    def add_recipients(self, announcement_id: str, profiles: Sequence[MailProfile], now: datetime) -> None:
        """Keep a batch of recipients (each once) and their profiles (a newer one known stays)."""
        if not profiles:
            return
        latest: dict[int, MailProfile] = {}
        for profile in profiles:
            if profile.user_id not in latest or latest[profile.user_id].version < profile.version:
                latest[profile.user_id] = profile
        stmt = self._insert(recipients)
        with self._begin() as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"version": stmt.excluded.version, "profile": stmt.excluded.profile,
                      "updated_at": stmt.excluded.updated_at},
                where=stmt.excluded.version > recipients.c.version,
            ), [{"user_id": p.user_id, "version": p.version, "profile": p.model_dump_json(),
                 "updated_at": _naive(now)} for p in latest.values()])
            conn.execute(self._insert(announcement_recipients).on_conflict_do_nothing(), [
                {"announcement_id": announcement_id, "user_id": user_id, "state": PENDING} for user_id in latest])

    def cancel(self, announcement_id: str, at: datetime) -> None:
        """Call an announcement off: its senders set aside everyone not yet mailed."""
        stmt = self._insert(announcements)
        with self._begin() as conn:
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["announcement_id"], set_={"cancelled_at": stmt.excluded.cancelled_at},
                where=announcements.c.cancelled_at.is_(None),
            ), {"announcement_id": announcement_id, "created": None, "chunks": 0, "received_at": _naive(at),
                "cancelled_at": _naive(at)})

    # -- the senders ------------------------------------------------------------------------------

    def open_announcements(self) -> list[Announcement]:
        """Announcements with recipients still pending, oldest first."""
        with self._begin() as conn:
            pending = sa.select(announcement_recipients.c.announcement_id).where(
                announcement_recipients.c.state == PENDING).distinct().scalar_subquery()
            received = (sa.select(sa.func.count()).select_from(announcement_chunks)
                        .where(announcement_chunks.c.announcement_id == announcements.c.announcement_id)
                        .scalar_subquery())
            rows = conn.execute(
                sa.select(announcements.c.announcement_id, announcements.c.created, announcements.c.chunks,
                          received, announcements.c.cancelled_at)
                .where(announcements.c.announcement_id.in_(pending))
                .order_by(announcements.c.received_at, announcements.c.announcement_id)).all()
        return [Announcement(r[0], AnnouncementCreatedData.model_validate_json(r[1]) if r[1] else None,
                             int(r[2]), int(r[3]), _aware(r[4])) for r in rows]

    def cancelled_at(self, announcement_id: str) -> datetime | None:
        with self._begin() as conn:
            return _aware(conn.execute(sa.select(announcements.c.cancelled_at).where(
                announcements.c.announcement_id == announcement_id)).scalar())

    def attachment(self, announcement_id: str, attachment: int) -> bytes:
        """One attachment's bytes, its chunks put back together."""
        with self._begin() as conn:
            parts = conn.execute(
                sa.select(announcement_chunks.c.data)
                .where(announcement_chunks.c.announcement_id == announcement_id,
                       announcement_chunks.c.attachment == attachment)
                .order_by(announcement_chunks.c.chunk)).scalars().all()
        return b"".join(parts)

    def claim(self, announcement_id: str, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
        """Take the lease of up to `limit` pending recipients no live lease holds (lowest user ids
        first); returns them with their newest profiles."""
        r = announcement_recipients.c
        free = (sa.select(r.user_id)
                .where(r.announcement_id == announcement_id, r.state == PENDING,
                       sa.or_(r.lease_until.is_(None), r.lease_until < _naive(now)))
                .order_by(r.user_id).limit(limit))
        if self._postgres:
            free = free.with_for_update(skip_locked=True)
        with self._begin() as conn:
            taken = [int(row[0]) for row in conn.execute(
                sa.update(announcement_recipients)
                .where(r.announcement_id == announcement_id, r.user_id.in_(free.scalar_subquery()))
                .values(lease_owner=owner, lease_until=_naive(now + lease)).returning(r.user_id))]
            if not taken:
                return []
            profiles = {int(u): MailProfile.model_validate_json(p) for u, p in conn.execute(
                sa.select(recipients.c.user_id, recipients.c.profile).where(recipients.c.user_id.in_(taken)))}
            addresses = {str(p.email).lower() for p in profiles.values()}
            refused = dict(conn.execute(sa.select(suppressions.c.address, suppressions.c.suppressed_at)
                                        .where(suppressions.c.address.in_(addresses))).all()) if addresses else {}
        claimed = []
        for user_id in sorted(taken):
            profile = profiles.get(user_id)
            at = refused.get(str(profile.email).lower()) if profile is not None else None
            claimed.append(Claimed(user_id, profile, _aware(at)))
        return claimed

    def finish(self, announcement_id: str, owner: str, outcomes: Sequence[Outcome], now: datetime) -> int:
        """Record what became of recipients this owner holds, with the activity telling social;
        returns how many were still held (a lease that ran out may have passed one on)."""
        if not outcomes:
            return 0
        r = announcement_recipients.c
        done = 0
        with self._begin() as conn:
            for outcome in outcomes:
                result = conn.execute(
                    sa.update(announcement_recipients)
                    .where(r.announcement_id == announcement_id, r.user_id == outcome.user_id, r.state == PENDING)
                    .values(state=outcome.state, reason=outcome.reason, done_at=_naive(now),
                            lease_owner=None, lease_until=None))
                done += result.rowcount
            conn.execute(sa.insert(activity_outbox), [
                {"kind": "entry", "body": o.entry, "created_at": _naive(now)} for o in outcomes])
            aside = [o for o in outcomes if o.state != SENT]
            if aside:
                conn.execute(self._insert(skips).on_conflict_do_nothing(), [
                    {"event_id": f"{announcement_id}.{o.user_id}", "kind": ANNOUNCEMENT_KIND, "user_id": o.user_id,
                     "recipient_domain": o.address.rsplit("@", 1)[-1] if o.address else None,
                     "reason": o.reason or o.state, "detail": (o.detail or "")[:500] or None,
                     "skipped_at": _naive(now)} for o in aside])
            for o in outcomes:
                if o.refused is not None and o.address is not None:
                    self._suppress(conn, o.address, o.user_id, o.refused, announcement_id, now)
        return done

    def _suppress(self, conn: sa.Connection, address: str, user_id: int, reply: str, announcement_id: str,
                  now: datetime) -> None:
        stmt = self._insert(suppressions)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["address"],
            set_={c: getattr(stmt.excluded, c) for c in ("user_id", "suppressed_at", "reply", "event_id")},
        ), [{"address": address, "user_id": user_id, "suppressed_at": _naive(now), "reply": reply[:500],
             "event_id": announcement_id}])
        bounce = MailBounced(data=MailBouncedData(user_id=user_id, address=address, reply=reply[:500],
                                                  event_id=announcement_id, bounced_at=now))
        conn.execute(sa.insert(activity_outbox), [{"kind": "bounce", "body": bounce.model_dump_json(),
                                                  "created_at": _naive(now)}])

    def renew(self, announcement_id: str, owner: str, user_ids: Sequence[int], until: datetime) -> None:
        """Hold these recipients longer (a slow SMTP server must not let another replica take over
        recipients this one is still mailing)."""
        r = announcement_recipients.c
        with self._begin() as conn:
            conn.execute(sa.update(announcement_recipients)
                         .where(r.announcement_id == announcement_id, r.lease_owner == owner,
                                r.user_id.in_(list(user_ids)), r.state == PENDING)
                         .values(lease_until=_naive(until)))

    def release(self, announcement_id: str, owner: str, user_ids: Iterable[int]) -> None:
        """Let go of recipients not worked on (stopping, a failed SMTP server): another sender,
        or this one later, takes them."""
        ids = list(user_ids)
        if not ids:
            return
        r = announcement_recipients.c
        with self._begin() as conn:
            for start in range(0, len(ids), _CHUNK):
                conn.execute(sa.update(announcement_recipients)
                             .where(r.announcement_id == announcement_id, r.lease_owner == owner,
                                    r.user_id.in_(ids[start:start + _CHUNK]), r.state == PENDING)
                             .values(lease_owner=None, lease_until=None))

    def pending_ids(self, announcement_id: str, limit: int) -> list[int]:
        """Pending recipients (a cancel sets them aside a chunk at a time)."""
        r = announcement_recipients.c
        with self._begin() as conn:
            return [int(u) for u in conn.execute(
                sa.select(r.user_id).where(r.announcement_id == announcement_id, r.state == PENDING)
                .order_by(r.user_id).limit(limit)).scalars()]

    def progress(self, announcement_id: str) -> Progress | None:
        r = announcement_recipients.c
        with self._begin() as conn:
            row = conn.execute(sa.select(announcements.c.created, announcements.c.cancelled_at)
                               .where(announcements.c.announcement_id == announcement_id)).first()
            counts = {(str(s), reason): int(n) for s, reason, n in conn.execute(
                sa.select(r.state, r.reason, sa.func.count())
                .where(r.announcement_id == announcement_id).group_by(r.state, r.reason))}
        if row is None and not counts:
            return None
        subject = AnnouncementCreatedData.model_validate_json(row[0]).default.subject if row and row[0] else None
        return Progress(announcement_id, subject, counts, _aware(row[1]) if row else None)

    # -- the shared rate limit ----------------------------------------------------------------------

    def take_slots(self, name: str, rate: float, count: int, now: float) -> float:
        """Reserve `count` sends at `rate` per second across every replica (GCRA): returns when
        the first may start; the rest follow 1/rate apart."""
        stmt = self._insert(rate_limits)
        later = sa.func.greatest if self._postgres else sa.func.max
        span = count / rate
        with self._begin() as conn:
            next_at = conn.execute(stmt.on_conflict_do_update(
                index_elements=["name"],
                set_={"next_at": later(rate_limits.c.next_at, now) + span},
            ).returning(rate_limits.c.next_at), {"name": name, "next_at": now + span}).scalar_one()
        return float(next_at) - span
