"""The ledger on PostgreSQL, as replicas share it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from notifier.ledger import DeliveryKey, DeliveryRecord, FollowNotice, Ledger


def test_replicas_starting_together_all_get_the_ledger_tables(postgres_url: str) -> None:
    ledgers = [Ledger(postgres_url) for _ in range(4)]
    errors: list[BaseException] = []

    def create(ledger: Ledger) -> None:
        try:
            ledger.create_schema()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for ledger in ledgers:
        ledger.dispose()


def test_a_recorded_delivery_and_follow_notice_are_found_on_postgresql(postgres_url: str) -> None:
    ledger = Ledger(postgres_url)
    ledger.create_schema()
    now = datetime.now(UTC)
    key = DeliveryKey("event-1", "bob@example.com", "follower_email")
    ledger.write([DeliveryRecord(key, "<event-1.follower_email@example.com>", now, FollowNotice(7, 8, "event-1", now))])
    ledger.write([DeliveryRecord(key, "<event-1.follower_email@example.com>", now, None)])  # a repeat is harmless
    found = ledger.lookup(key, 7, 8)
    assert found.delivered
    assert found.notice is not None
    assert found.notice.event_id == "event-1"
    assert abs((found.notice.followed_at - now).total_seconds()) < 0.001
    assert not ledger.lookup(DeliveryKey("event-2", "bob@example.com", "follower_email"), 7, 9).delivered
    assert ledger.count() == 1
    ledger.dispose()


def test_many_threads_each_read_the_ledger_without_waiting_for_a_pool(tmp_path: object, postgres_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    for url in (f"sqlite:///{tmp_path}/ledger.db", postgres_url):
        ledger = Ledger(url)
        ledger.create_schema()
        barrier = threading.Barrier(40)

        def look(n: int, ledger: Ledger = ledger, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait(10)  # all 40 threads hold their connection at once
            return ledger.lookup(DeliveryKey(f"e{n}", "a@example.com", "follower_email"), n, n).delivered

        with ThreadPoolExecutor(40) as pool:
            assert list(pool.map(look, range(40))) == [False] * 40
        ledger.dispose()
