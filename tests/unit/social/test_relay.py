"""The relay's decisions, through its composition root with a fake broker and a SQLite outbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from microblog_plumbing.probes import readiness_document
from prometheus_client import CollectorRegistry
from social.relay.bootstrap import build_relay
from social.relay.publisher import Confirmation
from social.relay.service import RelayService
from social.relay.wakeup import Wakeup
from social.settings import SocialSettings

from tests.support.wait import wait_for
from tests.unit.social.fakes import FakeInboxBroker, FakePublisher, NoticedWakeup, Outbox, RecordingBackoff

NACKED, RETURNED, LOST = Confirmation.NACKED, Confirmation.RETURNED, Confirmation.LOST


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    outbox = Outbox(tmp_path / "social.db")
    yield outbox
    outbox.close()


def relay_for(outbox: Outbox | str, publisher: FakePublisher, *, registry: CollectorRegistry | None = None,
              backoff: RecordingBackoff | None = None, wakeup: Wakeup | None = None,
              inbox: FakeInboxBroker | None = None, **settings: object) -> RelayService:
    """A relay on `outbox` (or a database URL) built as `social relay` builds it, but for its collaborators."""
    url = outbox if isinstance(outbox, str) else outbox.url
    values: dict[str, object] = {"relay_poll_interval": 0.01, **settings}
    return build_relay(SocialSettings(database_url=url, **values),  # type: ignore[arg-type]
                       publisher=publisher, inbox_connect=(inbox or FakeInboxBroker()).connect, registry=registry,
                       failure_backoff=backoff, wakeup=wakeup, serve_http=False)


@contextmanager
def running(relay: RelayService) -> Iterator[threading.Thread]:
    """`relay.run()` on a thread; stopped at the end, which must not take long."""
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        relay.stop()
        thread.join(5)
        assert not thread.is_alive(), "the relay did not stop"


#: Long enough for a stop on a busy machine, far shorter than any wait the relay can be in.
PROMPTLY = 0.5


def stop_takes(relay: RelayService, thread: threading.Thread) -> float:
    """Seconds from `stop()` to the end of `run()`."""
    started = time.monotonic()
    relay.stop()
    thread.join(5)
    assert not thread.is_alive(), "the relay did not stop"
    return time.monotonic() - started


def test_a_batch_marks_each_event_by_what_the_broker_said_of_it(outbox: Outbox) -> None:
    for event_id in ("confirmed", "returned", "nacked", "lost"):
        outbox.add(event_id)
    publisher = FakePublisher(answers={"returned": [RETURNED], "nacked": [NACKED], "lost": [LOST]})
    registry = CollectorRegistry()

    report = relay_for(outbox, publisher, registry=registry).relay_batch()

    assert (report.claimed, report.published, report.failed) == (4, 1, {"returned": 1, "nacked": 1, "lost": 1})
    assert publisher.batches == [["confirmed", "returned", "nacked", "lost"]]
    confirmed = outbox.row("confirmed")
    assert confirmed.published_at is not None
    assert (confirmed.publish_attempts, confirmed.last_error) == (0, None)
    for reason in ("returned", "nacked", "lost"):
        row = outbox.row(reason)
        assert (row.published_at, row.publish_attempts, row.last_error) == (None, 1, reason)
    assert registry.get_sample_value("relay_events_published_total") == 1
    for reason in ("returned", "nacked", "lost"):
        assert registry.get_sample_value("relay_publish_failures_total", {"reason": reason}) == 1
    assert registry.get_sample_value("relay_publish_batch_seconds_count") == 1


def test_an_event_the_broker_never_answered_for_stays_pending_as_lost(outbox: Outbox) -> None:
    outbox.add("e1")

    class Silent(FakePublisher):
        def publish(self, messages: object, timeout: float) -> dict[str, Confirmation]:
            return {}

    report = relay_for(outbox, Silent()).relay_batch()

    assert report.failed == {"lost": 1}
    assert outbox.pending() == ["e1"]


def test_a_failed_event_goes_again_in_the_next_batch_and_counts_each_attempt(outbox: Outbox) -> None:
    outbox.add("e1")
    publisher = FakePublisher(answers={"e1": [NACKED, RETURNED]})
    relay = relay_for(outbox, publisher)

    reports = [relay.relay_batch() for _ in range(3)]

    assert [r.failed for r in reports] == [{"nacked": 1}, {"returned": 1}, {}]
    assert publisher.published == ["e1", "e1", "e1"]
    row = outbox.row("e1")
    assert row.published_at is not None and row.publish_attempts == 2


def test_batches_take_the_oldest_pending_events_first_and_say_when_more_may_wait(outbox: Outbox) -> None:
    outbox.add("old", published=True)
    for event_id in ("e1", "e2", "e3"):
        outbox.add(event_id)
    publisher = FakePublisher()
    relay = relay_for(outbox, publisher, relay_batch_size=2)

    first, second, third = relay.relay_batch(), relay.relay_batch(), relay.relay_batch()

    assert publisher.batches == [["e1", "e2"], ["e3"]]
    assert (first.full, second.full, third.claimed) == (True, False, 0)


def test_the_backlog_metrics_give_the_age_of_the_oldest_pending_event_and_zero_once_none_is(outbox: Outbox) -> None:
    outbox.add("older", age=timedelta(seconds=90))
    outbox.add("newer", age=timedelta(seconds=30))
    registry = CollectorRegistry()
    relay = relay_for(outbox, FakePublisher(), registry=registry)

    assert registry.get_sample_value("relay_outbox_backlog") == 2
    assert registry.get_sample_value("relay_outbox_oldest_pending_age_seconds") == pytest.approx(90, abs=5)

    relay.relay_batch()

    assert registry.get_sample_value("relay_outbox_backlog") == 0
    assert registry.get_sample_value("relay_outbox_oldest_pending_age_seconds") == 0


def test_the_relay_publishes_new_events_until_stopped_then_closes_the_publisher(outbox: Outbox) -> None:
    publisher = FakePublisher()
    relay = relay_for(outbox, publisher)
    with running(relay):
        wait_for(lambda: publisher.started, what="the publisher to be started")
        outbox.add("e1")
        outbox.add("e2")
        wait_for(lambda: not outbox.pending(), what="both events published")
    assert publisher.published == ["e1", "e2"]
    assert publisher.stopped


def test_the_relay_backs_off_longer_after_each_failed_batch_and_starts_over_after_one_goes(outbox: Outbox) -> None:
    outbox.add("e1")
    publisher = FakePublisher(answers={"e1": [NACKED, LOST, RETURNED]})
    backoff = RecordingBackoff(initial=0.01, cap=0.08)
    with running(relay_for(outbox, publisher, backoff=backoff)):
        wait_for(lambda: not outbox.pending(), what="the event published on the fourth attempt")
    assert publisher.published == ["e1"] * 4
    first, second, third = backoff.delays[:3]
    assert first < second < third
    assert len(backoff.delays) == 3
    assert backoff.resets >= 1


def test_stop_ends_the_relay_in_the_middle_of_a_backoff_wait(outbox: Outbox) -> None:
    outbox.add("e1")
    publisher = FakePublisher(answers={"e1": [NACKED] * 10})
    backoff = RecordingBackoff(initial=30, cap=30)
    relay = relay_for(outbox, publisher, backoff=backoff)
    with running(relay) as thread:
        wait_for(lambda: backoff.delays, what="the relay to back off for 30 s")
        assert stop_takes(relay, thread) < PROMPTLY
    assert publisher.batches == [["e1"]]
    assert publisher.stopped


def test_stop_ends_the_relay_while_the_database_is_failing_and_it_backs_off(tmp_path: Path) -> None:
    backoff = RecordingBackoff(initial=30, cap=30)
    relay = relay_for(f"sqlite:///{tmp_path / 'no-outbox.db'}", FakePublisher(), backoff=backoff)
    with running(relay) as thread:
        wait_for(lambda: backoff.delays, what="the relay to back off from the database error")
        assert stop_takes(relay, thread) < PROMPTLY


def test_stop_ends_the_relay_while_it_waits_for_the_broker(outbox: Outbox) -> None:
    outbox.add("e1")
    publisher = FakePublisher(ready=False)
    relay = relay_for(outbox, publisher)
    with running(relay) as thread:
        assert publisher.waiting.wait(5)
        assert stop_takes(relay, thread) < PROMPTLY
    assert publisher.batches == []
    assert outbox.pending() == ["e1"]


def test_stop_ends_the_relay_while_it_waits_for_new_events(outbox: Outbox) -> None:
    wakeup = NoticedWakeup(poll_interval=60)
    relay = relay_for(outbox, FakePublisher(), wakeup=wakeup)
    with running(relay) as thread:
        assert wakeup.waiting.wait(5)
        assert stop_takes(relay, thread) < PROMPTLY


def test_the_relay_is_ready_when_publisher_and_inbox_are_and_says_why_when_not(outbox: Outbox) -> None:
    publisher = FakePublisher(ready=False, last_error="cannot connect: ConnectionRefusedError")
    relay = relay_for(outbox, publisher)

    assert readiness_document(relay.readiness()) == (503, {
        "status": "unavailable", "checks": {"broker": False, "inbox": False},
        "errors": {"broker": "cannot connect: ConnectionRefusedError", "inbox": "inbox not consuming"}})
    publisher.last_error = None
    assert readiness_document(relay.readiness())[1]["errors"]["broker"] == "broker not connected"
    publisher.ready = True
    with running(relay):
        wait_for(lambda: readiness_document(relay.readiness())[0] == 200, what="the inbox to consume")
        assert readiness_document(relay.readiness())[1] == {"status": "ok", "checks": {"broker": True, "inbox": True}}
