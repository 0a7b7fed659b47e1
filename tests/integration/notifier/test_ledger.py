"""The ledger on PostgreSQL, as replicas share it, and on SQLite."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from notifier.ledger import DeliveryKey, DeliveryRecord, Ledger, Lookup, Notice, NoticeKey
from notifier.ledger.store import SqlStore

NOTICE = NoticeKey("follower_email", "7:8")


def test_replicas_starting_together_all_get_the_ledger_tables(postgres_url: str) -> None:
    stores = [SqlStore(postgres_url) for _ in range(4)]
    errors: list[BaseException] = []

    def create(store: SqlStore) -> None:
        try:
            store.create_schema()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {"deliveries", "last_notices", "replay_checkpoints"} <= set(sa.inspect(stores[0].engine).get_table_names())
    for store in stores:
        store.dispose()


def test_a_recorded_delivery_and_its_notice_are_found_on_postgresql(postgres_url: str) -> None:
    store = SqlStore(postgres_url)
    store.create_schema()
    now = datetime.now(UTC)
    key = DeliveryKey("event-1", "bob@example.com", "follower_email")
    store.write([DeliveryRecord(key, "<event-1.follower_email@example.com>", now, Notice(NOTICE, "event-1", now))])
    store.write([DeliveryRecord(key, "<event-1.follower_email@example.com>", now, None)])  # a repeat is harmless
    found = store.lookup(key, NOTICE)
    assert found.delivered
    assert found.notice is not None
    assert found.notice.event_id == "event-1"
    assert abs((found.notice.occurred_at - now).total_seconds()) < 0.001
    assert store.lookup(DeliveryKey("event-2", "bob@example.com", "follower_email"),
                        NoticeKey("follower_email", "7:9")) == Lookup(False, None)
    assert store.count() == 1
    store.dispose()


def test_a_ledger_of_notifier_1_0_keeps_its_cooldowns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE follow_notices (follower_id BIGINT, followed_id BIGINT, "
                             "event_id VARCHAR(128), followed_at DATETIME, PRIMARY KEY (follower_id, followed_id))"))
        conn.execute(sa.text("INSERT INTO follow_notices VALUES (7, 8, 'old-event', '2026-11-30 10:00:00')"))
    engine.dispose()
    ledger = Ledger(SqlStore(url))
    ledger.create_schema()
    found = ledger.lookup(DeliveryKey("new-event", "bob@example.com", "follower_email"), NOTICE)
    assert found.notice is not None
    assert (found.notice.event_id, found.notice.occurred_at) == ("old-event", datetime(2026, 11, 30, 10, tzinfo=UTC))
    ledger.dispose()


def test_many_threads_each_read_the_ledger_without_waiting_for_a_pool(tmp_path: Path, postgres_url: str) -> None:
    for url in (f"sqlite:///{tmp_path}/ledger.db", postgres_url):
        store = SqlStore(url)
        store.create_schema()
        barrier = threading.Barrier(40)

        def look(n: int, store: SqlStore = store, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait(10)  # all 40 threads hold their connection at once
            return store.lookup(DeliveryKey(f"e{n}", "a@example.com", "follower_email"), None).delivered

        with ThreadPoolExecutor(40) as pool:
            assert list(pool.map(look, range(40))) == [False] * 40
        store.dispose()


def test_the_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'var' / 'ledger.db'}")
    store.create_schema()
    assert (tmp_path / "var" / "ledger.db").stat().st_mode & 0o777 == 0o600
    store.dispose()
