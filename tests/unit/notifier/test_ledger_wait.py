"""`notifier run` started while its ledger database is down waits for it (with a capped backoff,
not ready, saying so) instead of exiting, and starts consuming once it answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import structlog
from notifier import bootstrap, consumer
from notifier.bootstrap import Notifier, build_notifier
from notifier.broker import Brokers
from notifier.errors import BrokerUnavailable, LedgerUnavailable
from notifier.ledger.store import SqlStore
from pika.adapters.blocking_connection import BlockingConnection

from tests.support.fakes import FakeTransport
from tests.support.wait import wait_for
from tests.unit.notifier.conftest import unit_settings
from tests.unit.social.fakes import RecordingBackoff


class DownAtFirst(SqlStore):
    """The ledger's SQLite store, answering nothing while `down`."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.down = True

    def create_schema(self) -> None:
        if self.down:
            raise LedgerUnavailable("cannot create the ledger tables: connection refused (fake)")
        super().create_schema()

    def ping(self) -> bool:
        return not self.down and super().ping()


class NoBroker:
    """Stands in for the broker edge: records each attempt to connect and refuses it."""

    def __init__(self) -> None:
        self.attempts = 0

    def __call__(self, _brokers: Brokers) -> BlockingConnection:
        self.attempts += 1
        raise BrokerUnavailable("refused (fake)")


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> NoBroker:
    fake = NoBroker()
    monkeypatch.setattr(consumer, "connect", fake)
    monkeypatch.setattr(bootstrap, "serve_probes", lambda *_args: None)
    monkeypatch.setattr(bootstrap, "stop_probes", lambda _server: None)
    return fake


@contextmanager
def started(tmp_path: Path) -> Iterator[tuple[Notifier, DownAtFirst, RecordingBackoff]]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = DownAtFirst(url)
    notifier = build_notifier(unit_settings(notifier_database_url=url, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F"),
                              store=store, transport_factory=FakeTransport)
    notifier.ledger_backoff = backoff = RecordingBackoff(initial=0.01, cap=0.04)
    notifier.consumer.backoff = RecordingBackoff(initial=0.01, cap=0.04)
    thread = threading.Thread(target=notifier.run, daemon=True)
    thread.start()
    try:
        yield notifier, store, backoff
    finally:
        notifier.stop()
        thread.join(5)
        assert not thread.is_alive(), "the notifier did not stop"


def test_a_notifier_whose_ledger_is_down_waits_not_ready_with_backoff_and_consumes_once_it_answers(
    tmp_path: Path, broker: NoBroker
) -> None:
    with structlog.testing.capture_logs() as logs, started(tmp_path) as (notifier, store, backoff):
        wait_for(lambda: len(backoff.delays) >= 4, timeout=5, what="several looks at the ledger")
        assert not notifier.readiness()["ledger"].ok
        assert broker.attempts == 0, "nothing is consumed before the ledger answers"
        assert backoff.delays[3] > backoff.delays[0], "the waits grow"
        waiting = [e for e in logs if e["event"] == "waiting_for_ledger_database"]
        assert waiting and "connection refused (fake)" in waiting[0]["error"]
        store.down = False
        wait_for(lambda: broker.attempts > 0, timeout=5, what="the consumer to start")
        assert notifier.readiness()["ledger"].ok


def test_a_notifier_waiting_for_its_ledger_stops_at_once(tmp_path: Path, broker: NoBroker) -> None:
    with started(tmp_path) as (notifier, _store, backoff):
        notifier.ledger_backoff = RecordingBackoff(initial=30, cap=30)
        wait_for(lambda: backoff.delays, timeout=5, what="a first look at the ledger")
    assert broker.attempts == 0
