"""The relay's real waits (on the broker, on a NOTIFY) end when they should: on news, or at stop."""

from __future__ import annotations

import threading
import time

import psycopg
from microblog_contracts import EXCHANGE
from microblog_plumbing.backoff import Backoff
from social.outbox.schema import NOTIFY_CHANNEL
from social.relay.publisher import ConfirmingPublisher
from social.relay.wakeup import PostgresWakeup
from sqlalchemy.engine import make_url

from tests.support.wait import wait_for

#: Long enough on a busy machine, far shorter than the waits these tests interrupt.
PROMPTLY = 1.0
NOBODY_LISTENS = "amqp://guest:guest@127.0.0.1:1/%2F"


def test_stopping_the_publisher_ends_its_wait_before_reconnecting() -> None:
    publisher = ConfirmingPublisher(NOBODY_LISTENS, EXCHANGE, backoff=Backoff(initial=30, cap=30))
    publisher.start()
    wait_for(lambda: publisher.last_error, what="the first connection attempt to fail")
    started = time.monotonic()
    publisher.stop(timeout=10)
    assert time.monotonic() - started < PROMPTLY


def test_interrupting_the_publisher_ends_a_wait_for_the_broker_and_every_later_one() -> None:
    publisher = ConfirmingPublisher(NOBODY_LISTENS, EXCHANGE)
    answered: list[bool] = []
    waiter = threading.Thread(target=lambda: answered.append(publisher.wait_ready(30)))
    waiter.start()
    publisher.interrupt()
    waiter.join(PROMPTLY)
    assert answered == [False]
    started = time.monotonic()
    assert publisher.wait_ready(30) is False
    assert time.monotonic() - started < PROMPTLY


def listening(postgres_url: str) -> bool:
    with psycopg.connect(make_url(postgres_url).set(drivername="postgresql").render_as_string(False)) as conn:
        count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'").fetchone()
    return bool(count and count[0])


def waiting_wakeup(postgres_url: str) -> tuple[PostgresWakeup, threading.Thread]:
    """A wake-up that falls back to polling only every 30 s, waiting on a thread, LISTENing."""
    wakeup = PostgresWakeup(make_url(postgres_url), NOTIFY_CHANNEL, poll_interval=0.05, fallback_interval=30)
    waiter = threading.Thread(target=wakeup.wait, daemon=True)
    waiter.start()
    wait_for(lambda: listening(postgres_url), what="the wake-up to LISTEN")
    return wakeup, waiter


def test_a_notify_ends_the_relays_wait_at_once(postgres_url: str) -> None:
    wakeup, waiter = waiting_wakeup(postgres_url)
    try:
        with psycopg.connect(make_url(postgres_url).set(drivername="postgresql").render_as_string(False),
                             autocommit=True) as conn:
            conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        waiter.join(PROMPTLY)
        assert not waiter.is_alive()
    finally:
        wakeup.interrupt()
        waiter.join(5)
        wakeup.close()


def test_interrupting_ends_the_wait_for_a_notify_at_once(postgres_url: str) -> None:
    wakeup, waiter = waiting_wakeup(postgres_url)
    try:
        wakeup.interrupt()
        waiter.join(PROMPTLY)
        assert not waiter.is_alive()
    finally:
        waiter.join(5)
        wakeup.close()
