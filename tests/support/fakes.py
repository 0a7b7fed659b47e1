"""Fakes that record what happened, for tests that need no network (cosmicpython's way: they
keep state and outcomes, they do not assert on calls)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from notifier.errors import LedgerUnavailable, NotifierError
from notifier.ledger.checkpoints import SavedRun, UnknownRun
from notifier.ledger.records import (
    DeliveryKey,
    DeliveryRecord,
    Facts,
    FactsQuery,
    ForgetRecord,
    LedgerRecord,
    Notice,
    NoticeKey,
    ProfileRecord,
    SkipRecord,
    SuppressionRecord,
)
from pika.spec import BasicProperties


@dataclass
class SentMail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class FakeTransport:
    """Stands in for SmtpTransport: keeps what it is given, or raises the queued failures."""

    sent: list[SentMail] = field(default_factory=list)
    failures: list[NotifierError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: int = 0

    def send(self, sender: str, recipients: list[str], message: bytes) -> str:
        with self.lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(SentMail(sender, list(recipients), message))
        return "250 OK (fake)"

    def close(self) -> None:
        self.closed += 1


class MemoryReplayRuns:
    def __init__(self) -> None:
        self.runs: dict[str, SavedRun] = {}

    def start(self, options: Mapping[str, Any]) -> str:
        run_id = f"run-{len(self.runs) + 1}"
        self.runs[run_id] = SavedRun(dict(options), None, False)
        return run_id

    def load(self, run_id: str) -> SavedRun:
        if run_id not in self.runs:
            raise UnknownRun(run_id)
        return self.runs[run_id]

    def save(self, run_id: str, next_offset: int | None, summary: Mapping[str, Any], *, finished: bool) -> None:
        self.runs[run_id] = SavedRun(self.runs[run_id].options, next_offset, finished)


class MemoryStore:
    """The ledger's store in dictionaries. `down` makes every call fail as a lost database would;
    `hold_writes` makes commits wait until released (to watch what happens before a commit)."""

    def __init__(self) -> None:
        self.deliveries: dict[DeliveryKey, DeliveryRecord] = {}
        self.notices: dict[NoticeKey, Notice] = {}
        self.profiles: dict[int, ProfileRecord] = {}
        self.suppressions: dict[str, SuppressionRecord] = {}
        self.skips: dict[tuple[str, str], SkipRecord] = {}
        self.deleted: dict[int, datetime] = {}
        self.commits: list[list[LedgerRecord]] = []
        self.down = False
        self.hold_writes = threading.Event()
        self.hold_writes.set()
        self.runs = MemoryReplayRuns()
        self.readers_released = 0  # release_reader calls: workers resting

    def create_schema(self) -> None:
        self._check()

    def ping(self) -> bool:
        return not self.down

    def facts(self, query: FactsQuery) -> Facts:
        self._check()
        profile = self.profiles.get(query.user_id) if query.user_id is not None else None
        suppression = self.suppressions.get(query.address) if query.address is not None else None
        sent = 0
        if query.sent_since is not None:
            sent = sum(1 for r in self.deliveries.values() if r.key.recipient == query.address
                       and r.key.kind in query.cap_kinds and r.delivered_at >= query.sent_since)
        return Facts(query.key in self.deliveries,
                     self.notices.get(query.notice_key) if query.notice_key else None,
                     profile.profile if profile else None,
                     suppression.suppressed_at if suppression else None, sent,
                     deleted=frozenset(u for u in query.people if u in self.deleted))

    def write(self, records: Sequence[LedgerRecord]) -> None:
        self.hold_writes.wait(10)
        self._check()
        for record in records:
            if isinstance(record, DeliveryRecord):
                self.deliveries.setdefault(record.key, record)
                notice = record.notice
                if notice is not None:
                    current = self.notices.get(notice.key)
                    if current is None or current.occurred_at <= notice.occurred_at:
                        self.notices[notice.key] = notice
            elif isinstance(record, ProfileRecord):
                known = self.profiles.get(record.profile.user_id)
                if known is None or known.profile.version < record.profile.version:
                    self.profiles[record.profile.user_id] = record
            elif isinstance(record, SuppressionRecord):
                self.suppressions[record.address] = record
            elif isinstance(record, SkipRecord):
                self.skips.setdefault((record.event_id, record.kind), record)
            elif isinstance(record, ForgetRecord):
                self._forget(record)
        self.commits.append(list(records))

    def _forget(self, record: ForgetRecord) -> None:
        known = self.profiles.pop(record.user_id, None)
        addresses = {a for a, s in self.suppressions.items() if s.user_id == record.user_id}
        if known is not None:
            addresses.add(str(known.profile.email).lower())
        self.deliveries = {k: r for k, r in self.deliveries.items() if k.recipient not in addresses}
        self.suppressions = {a: r for a, r in self.suppressions.items() if a not in addresses}
        self.skips = {k: r for k, r in self.skips.items() if r.user_id != record.user_id}
        self.deleted[record.user_id] = record.deleted_at

    def skipped(self, *, reason: str | None = None, since: datetime | None = None, until: datetime | None = None,
                limit: int = 1000) -> list[SkipRecord]:
        found = [r for r in self.skips.values() if (reason is None or r.reason == reason)
                 and (since is None or r.skipped_at >= since) and (until is None or r.skipped_at <= until)]
        return sorted(found, key=lambda r: r.skipped_at, reverse=True)[:limit]

    def replay_runs(self) -> MemoryReplayRuns:
        return self.runs

    def dispose(self) -> None:
        pass

    def release_reader(self) -> None:
        self.readers_released += 1

    def _check(self) -> None:
        if self.down:
            raise LedgerUnavailable("connection refused (fake)")


@dataclass
class Published:
    exchange: str
    routing_key: str
    body: bytes
    properties: BasicProperties

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})


@dataclass
class FakeChannel:
    """A pika channel that keeps what was acked, nacked and published; `refuse` makes the broker
    refuse the next publishes (as a confirming channel raises on a nack)."""

    acked: list[tuple[int, bool]] = field(default_factory=list)
    nacked: list[tuple[int, bool]] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    refuse: int = 0

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.acked.append((delivery_tag, multiple))

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True) -> None:
        self.nacked.append((delivery_tag, requeue))

    def basic_publish(self, exchange: str, routing_key: str, body: bytes,
                      properties: BasicProperties | None = None, mandatory: bool = False) -> None:
        import pika.exceptions

        if self.refuse:
            self.refuse -= 1
            raise pika.exceptions.NackError([])
        self.published.append(Published(exchange, routing_key, body, properties or BasicProperties()))

    def acked_tags(self) -> set[int]:
        """Every tag an ack covers, `multiple` ones included (tags start at 1)."""
        tags: set[int] = set()
        for tag, multiple in self.acked:
            tags |= set(range(1, tag + 1)) if multiple else {tag}
        return tags


class ManualClock:
    """A clock tests move by hand; call it for the time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by

    def seconds(self) -> float:
        """The same clock as monotonic seconds, for collaborators that take a float clock."""
        return self.now.timestamp()
