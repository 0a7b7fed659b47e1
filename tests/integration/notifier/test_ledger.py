"""The ledger on PostgreSQL, as replicas share it, and on SQLite."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from notifier.ledger import DeliveryKey, DeliveryRecord, Facts, FactsQuery, Ledger, Notice, NoticeKey
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
    found = store.facts(FactsQuery(key, NOTICE))
    assert found.delivered
    assert found.notice is not None
    assert found.notice.event_id == "event-1"
    assert abs((found.notice.occurred_at - now).total_seconds()) < 0.001
    assert store.facts(FactsQuery(DeliveryKey("event-2", "bob@example.com", "follower_email"),
                                  NoticeKey("follower_email", "7:9"))) == Facts(False, None)
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
            return store.facts(FactsQuery(DeliveryKey(f"e{n}", "a@example.com", "follower_email"))).delivered

        with ThreadPoolExecutor(40) as pool:
            assert list(pool.map(look, range(40))) == [False] * 40
        store.dispose()


def test_a_worker_that_rests_gives_its_database_connection_back(postgres_url: str) -> None:
    """Up to MAIL_MAX_CONNECTIONS workers per replica each read the ledger: the ones not sending
    must not hold PostgreSQL's connections (100 by default, shared by every replica)."""
    store = SqlStore(postgres_url)
    store.create_schema()
    database = sa.make_url(postgres_url).database
    admin = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)

    def open_connections() -> int:
        with admin.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                                            "AND pid <> pg_backend_pid()"), {"d": database}).scalar_one())

    before = open_connections()
    read, rest = threading.Barrier(9), threading.Barrier(9)
    done = threading.Event()

    def worker(n: int) -> None:
        store.facts(FactsQuery(DeliveryKey(f"e{n}", "a@example.com", "follower_email")))
        read.wait(10)
        rest.wait(10)
        store.release_reader()
        done.wait(10)
        assert not store.facts(FactsQuery(DeliveryKey(f"e{n}", "a@example.com", "follower_email"))).delivered

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    read.wait(10)
    assert open_connections() == before + 8
    rest.wait(10)
    deadline = time.monotonic() + 10
    while open_connections() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_connections() == before
    done.set()
    for thread in threads:
        thread.join(10)
    store.dispose()
    admin.dispose()


def test_the_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'var' / 'ledger.db'}")
    store.create_schema()
    assert (tmp_path / "var" / "ledger.db").stat().st_mode & 0o777 == 0o600
    store.dispose()


def test_everything_a_mail_depends_on_comes_back_in_one_look_on_both_databases(
        tmp_path: Path, postgres_url: str) -> None:
    from microblog_contracts import NoticeMode
    from notifier.ledger import ProfileRecord, SkipRecord, SuppressionRecord

    from tests.support.events import profile

    now = datetime.now(UTC).replace(microsecond=0)
    for url in (f"sqlite:///{tmp_path}/ledger.db", postgres_url):
        store = SqlStore(url)
        store.create_schema()
        key = DeliveryKey("event-1", "bob@example.com", "follower_email")
        store.write([
            DeliveryRecord(key, "<m1>", now, Notice(NOTICE, "event-1", now)),
            DeliveryRecord(DeliveryKey("event-2", "bob@example.com", "follower_email"), "<m2>", now),
            DeliveryRecord(DeliveryKey("event-3", "bob@example.com", "password_reset"), "<m3>", now),
            ProfileRecord(profile(version=2, follow_notices=NoticeMode.OFF), now),
            ProfileRecord(profile(version=1), now),  # older: ignored
            SuppressionRecord("bob@example.com", 100_000, now, "550 5.1.1 gone", "event-2"),
            SkipRecord("event-4", "follower_email", 100_000, "example.com", "unconfirmed", "not confirmed", now),
        ])
        facts = store.facts(FactsQuery(DeliveryKey("event-9", "bob@example.com", "follower_email"), NOTICE,
                                       user_id=100_000, address="bob@example.com",
                                       sent_since=now.replace(year=now.year - 1), cap_kinds=("follower_email",)))
        assert not facts.delivered
        assert facts.notice is not None and facts.notice.event_id == "event-1"
        assert facts.profile is not None
        assert (facts.profile.version, facts.profile.preferences.follow_notices) == (2, NoticeMode.OFF)
        assert facts.suppressed_at == now
        assert facts.sent_recently == 2  # the password reset does not count toward the cap
        assert store.facts(FactsQuery(key)).delivered
        assert [s.event_id for s in store.skipped(reason="unconfirmed")] == ["event-4"]
        store.dispose()
