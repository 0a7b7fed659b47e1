"""The relay prunes the outbox and the ended rate limit windows about every five minutes, through its
composition root with a clock the test moves (a fake broker, a SQLite file)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog.testing
from flask import Flask
from social.dbtypes import utcnow
from social.extensions import db
from social.follows import follow
from social.limitstore import rate_limits
from social.outbox.models import OutboxEvent
from social.relay.bootstrap import build_relay
from social.relay.pruning import OutboxPruner
from social.relay.service import RelayService
from social.settings import SocialSettings

from tests.support.fakes import ManualClock
from tests.support.social_app import build_app, make_user
from tests.support.wait import wait_for
from tests.unit.social.fakes import FakeInboxBroker, FakePublisher


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'social.db'}"


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = build_app(database_url)  # the migrations: the outbox, the users and the rate limit windows
    with app.app_context():
        yield app


class CountingClock(ManualClock):
    """A clock tests move by hand that counts how often it was read: the relay reads it once a turn."""

    def __init__(self) -> None:
        super().__init__(utcnow())
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return super().__call__()

    def turns(self, count: int) -> None:
        """Wait until the relay has gone round its loop `count` more times."""
        until = self.reads + count
        wait_for(lambda: self.reads >= until, what=f"{count} turns of the relay's loop")


@pytest.fixture
def clock() -> CountingClock:
    return CountingClock()


def published_follow(follower: str, followed: str, *, age: timedelta) -> None:
    """A follow whose event went out `age` ago."""
    follow(make_user(follower), make_user(followed))
    # The running relay may have published it already: match it by its age, not its state.
    db.session.execute(sa.update(OutboxEvent).where(OutboxEvent.occurred_at > utcnow() - timedelta(minutes=1))
                       .values(published_at=sa.func.coalesce(OutboxEvent.published_at, utcnow()),
                               occurred_at=utcnow() - age))
    db.session.commit()


def addresses_kept() -> list[str | None]:
    db.session.expire_all()
    bodies = db.session.scalars(sa.select(OutboxEvent.body).order_by(OutboxEvent.position))
    return [json.loads(body)["data"]["followed"]["email"] for body in bodies]


def ended_windows() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(rate_limits)) or 0)


@pytest.fixture
def relay(database_url: str, clock: CountingClock) -> Iterator[RelayService]:
    """The relay as `social relay` builds it, with the test's clock; stopped at the end."""
    relay = build_relay(SocialSettings(database_url=database_url, relay_poll_interval=0.01,  # type: ignore[call-arg]
                                       outbox_retention="30d"),
                        publisher=FakePublisher(), inbox_connect=FakeInboxBroker().connect, serve_http=False,
                        clock=clock)
    yield relay
    relay.stop()


def run(relay: RelayService) -> None:
    threading.Thread(target=relay.run, daemon=True).start()


def test_the_relay_prunes_when_it_starts_and_then_every_five_minutes(
        app: Flask, relay: RelayService, clock: CountingClock) -> None:
    published_follow("susan", "bob", age=timedelta(days=31))
    with db.engine.begin() as conn:
        conn.execute(sa.insert(rate_limits).values(key="login/susan", hits=3, expires_at=time.time() - 1))

    run(relay)
    wait_for(lambda: addresses_kept() == [None], what="the old event's address dropped at start")
    assert ended_windows() == 0

    published_follow("carol", "dave", age=timedelta(days=31))  # old enough, but the next pass is not due
    clock.advance(timedelta(minutes=4))
    clock.turns(30)  # none of them may prune yet
    assert addresses_kept() == [None, "dave@example.com"]

    clock.advance(timedelta(minutes=1))
    wait_for(lambda: addresses_kept() == [None, None], what="the second pass, five minutes after the first")
    relay.stop()



def test_a_pass_the_database_fails_is_logged_and_tried_again_at_the_next_interval_not_at_every_turn(
        tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'no-schema.db'}")  # every pass fails: no tables
    clock = ManualClock(utcnow())
    pruner = OutboxPruner(engine, retention=timedelta(days=30), clock=clock)
    with structlog.testing.capture_logs() as logs:
        assert pruner.prune_if_due()
        assert not pruner.prune_if_due()
        clock.advance(timedelta(minutes=5))
        assert pruner.prune_if_due()
    engine.dispose()
    assert [entry["event"] for entry in logs] == ["outbox_prune_failed"] * 2
    assert "no such table" in logs[0]["error"]
