"""`social events replay`'s core: which outbox events go out again, in what order, and where it stops."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from social.relay.bootstrap import relay_engine
from social.relay.publisher import Confirmation
from social.relay.replay import ReplayStopped, ReplayWindow, count_replayable, replay_outbox
from sqlalchemy.engine import Engine

from tests.unit.social.fakes import FakePublisher, Outbox


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    outbox = Outbox(tmp_path / "social.db")
    outbox.add("too-old", age=timedelta(hours=2), published=True)
    outbox.add("a", age=timedelta(minutes=30), published=True)
    outbox.add("unfollow", age=timedelta(minutes=20), event_type="user.unfollowed", published=True)
    outbox.add("b", age=timedelta(minutes=10), published=True)
    outbox.add("pending")  # the relay's to publish, not the replay's
    yield outbox
    outbox.close()


@pytest.fixture
def engine(outbox: Outbox) -> Iterator[Engine]:
    engine = relay_engine(outbox.url)
    yield engine
    engine.dispose()


LAST_HOUR = ReplayWindow(since=datetime.now(UTC) - timedelta(hours=1), event_type="user.followed")


def test_a_replay_publishes_again_the_published_events_of_its_window_in_order(engine: Engine) -> None:
    publisher = FakePublisher()
    progress: list[int] = []

    assert count_replayable(engine, LAST_HOUR) == 2
    assert replay_outbox(engine, publisher, LAST_HOUR, batch_size=1, on_batch=progress.append) == 2

    assert publisher.batches == [["a"], ["b"]]
    assert progress == [1, 2]


def test_a_replay_stops_at_the_first_event_not_confirmed_and_says_where_to_go_on(
    engine: Engine, outbox: Outbox
) -> None:
    publisher = FakePublisher(answers={"b": [Confirmation.NACKED]})

    with pytest.raises(ReplayStopped, match="did not confirm event b: nacked") as stopped:
        replay_outbox(engine, publisher, LAST_HOUR)

    assert stopped.value.replayed == 1
    assert stopped.value.resume_since == outbox.row("b").occurred_at
