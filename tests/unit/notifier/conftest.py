"""The notifier's decisions through its composition root, with fakes: no broker, SMTP or database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notifier.bootstrap import build_ledger, build_pipeline
from notifier.ledger import Ledger
from notifier.pipeline import Pipeline
from notifier.settings import NotifierSettings

from tests.support.fakes import FakeTransport, ManualClock, MemoryStore


def unit_settings(**overrides: object) -> NotifierSettings:
    values: dict[str, object] = {"admins": ["admin@example.com"], "notifier_database_url": "sqlite://",
                                 "notifier_ledger_commit_interval": 0.005,
                                 # One mail per follow, at once: the gathering has tests of its own.
                                 "follow_notice_default": "immediately", "notifier_follow_grace": "0"}
    return NotifierSettings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def ledger(store: MemoryStore) -> Iterator[Ledger]:
    ledger = build_ledger(unit_settings(), store=store)
    ledger.start()
    yield ledger
    store.hold_writes.set()
    ledger.stop()


@pytest.fixture
def pipeline(ledger: Ledger, clock: ManualClock) -> Pipeline:
    return build_pipeline(unit_settings(), ledger, clock=clock)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()
