"""The ledger's group commit: records are visible before their commit, callbacks run after it,
and a database that fails keeps them in line until it answers again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from notifier.ledger import DeliveryKey, DeliveryRecord, Ledger, Notice, NoticeKey

from tests.support.fakes import MemoryStore
from tests.support.wait import wait_for

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def record(n: int, notice_at: datetime | None = None) -> DeliveryRecord:
    key = DeliveryKey(f"event-{n}", "bob@example.com", "follower_email")
    notice = Notice(NoticeKey("follower_email", "7:8"), f"event-{n}", notice_at) if notice_at else None
    return DeliveryRecord(key, f"<event-{n}.follower_email@example.com>", NOW, notice)


def test_records_are_committed_together_and_each_callback_runs_after_its_commit() -> None:
    store = MemoryStore()
    ledger = Ledger(store, commit_interval=0.05)
    committed: list[int] = []
    store.hold_writes.clear()
    ledger.start()
    for n in range(5):
        ledger.record(record(n), lambda n=n: committed.append(n))
    assert committed == []
    assert ledger.lookup(record(3).key).delivered  # visible before the commit
    store.hold_writes.set()
    assert ledger.flush(5)
    ledger.stop()
    assert committed == [0, 1, 2, 3, 4]
    assert sum(len(batch) for batch in store.commits) == 5
    assert len(store.commits) <= 2  # grouped, not one commit each


def test_a_database_error_keeps_the_records_held_and_in_order_until_a_commit_succeeds() -> None:
    store = MemoryStore()
    errors: list[str] = []
    ledger = Ledger(store, commit_interval=0.005, on_error=lambda exc: errors.append(str(exc)))
    committed: list[int] = []
    store.down = True
    ledger.start()
    for n in range(3):
        ledger.record(record(n), lambda n=n: committed.append(n))
    wait_for(lambda: len(errors) >= 2, what="failed commits")
    assert committed == []
    assert all(ledger.lookup(record(n).key).delivered for n in range(3))  # still folded meanwhile
    store.down = False
    assert ledger.flush(10)
    ledger.stop()
    assert committed == [0, 1, 2]
    assert set(store.deliveries) == {record(n).key for n in range(3)}


def test_the_latest_notice_about_a_subject_wins_held_or_committed() -> None:
    store = MemoryStore()
    ledger = Ledger(store)
    ledger.start()
    earlier, latest = datetime(2026, 11, 30, tzinfo=UTC), NOW
    done = threading.Event()
    ledger.record(record(1, latest), lambda: None)
    ledger.record(record(2, earlier), done.set)
    assert ledger.flush(5) and done.is_set()
    ledger.stop()
    found = ledger.lookup(DeliveryKey("event-9", "bob@example.com", "follower_email"),
                          NoticeKey("follower_email", "7:8"))
    assert found.notice is not None
    assert (found.notice.event_id, found.delivered) == ("event-1", False)
