"""Settling deliveries: the one place that acks, nacks, retries and dead-letters."""

from __future__ import annotations

import itertools

import pytest
from notifier.errors import SmtpRecipientRefused, SmtpUnavailable
from notifier.failures import FAILURE_HEADER, Disposition, Failure, FailurePolicy
from notifier.pipeline import Outcome, Result
from notifier.settlement import Delivery, Settlement
from pika.spec import BasicProperties

from tests.support.fakes import FakeChannel
from tests.unit.notifier.test_failures import topology

_tags = itertools.count(1)


def delivery(tag: int) -> Delivery:
    return Delivery(generation=1, tag=tag, exchange="social.events", routing_key="user.followed",
                    properties=BasicProperties(message_id=f"event-{tag}", headers={}), body=b"{}",
                    redelivered=False, received_at=0.0)


class Reports:
    def __init__(self) -> None:
        self.seen: list[tuple[Outcome, str | None]] = []

    def __call__(self, result: Result, disposition: Disposition | None, **_: object) -> None:
        self.seen.append((result.outcome, disposition.queue if disposition else None))


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def publisher() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def settlement(channel: FakeChannel, publisher: FakeChannel, reports: Reports) -> Settlement:
    return Settlement(channel, publisher, FailurePolicy(topology(), max_attempts=3), reports, as_user="notifier",
                      clock=lambda: 0.0)


def received(settlement: Settlement, count: int) -> list[Delivery]:
    made = [delivery(n) for n in range(1, count + 1)]
    for d in made:
        settlement.track(d)
    return made


SENT = Result(Outcome.SENT, mail_kind="follower_email")


def test_a_run_of_sent_messages_at_the_head_is_acked_with_one_multiple_ack(
        settlement: Settlement, channel: FakeChannel) -> None:
    d = received(settlement, 3)
    settlement.settle([(d[0], SENT), (d[1], SENT), (d[2], SENT)])
    assert channel.acked == [(3, True)]
    assert len(settlement) == 0


def test_a_message_settled_before_a_slow_one_ahead_of_it_is_acked_alone(
        settlement: Settlement, channel: FakeChannel) -> None:
    d = received(settlement, 3)
    settlement.settle([(d[2], SENT)])
    assert channel.acked == [(3, False)]
    settlement.settle([(d[0], SENT), (d[1], SENT)])
    assert channel.acked_tags() == {1, 2, 3}
    assert len(settlement) == 0


def test_a_transient_failure_is_copied_to_a_delay_queue_before_its_ack(
        settlement: Settlement, channel: FakeChannel, publisher: FakeChannel, reports: Reports) -> None:
    (d,) = received(settlement, 1)
    failure = Failure.of(SmtpUnavailable("451 try later"))
    settlement.settle([(d, Result(Outcome.RETRY, failure=failure, mail_kind="follower_email"))])
    (copy,) = publisher.published
    assert copy.routing_key.startswith("q.retry.")
    assert copy.headers[FAILURE_HEADER] == "smtp_unavailable"
    assert copy.properties.message_id == "event-1"
    assert channel.acked == [(1, True)]
    assert reports.seen == [(Outcome.RETRY, copy.routing_key)]


def test_a_permanent_failure_is_copied_to_the_dead_letter_queue_then_acked(
        settlement: Settlement, channel: FakeChannel, publisher: FakeChannel) -> None:
    (d,) = received(settlement, 1)
    failure = Failure.of(SmtpRecipientRefused("550 gone"))
    settlement.settle([(d, Result(Outcome.DEAD, failure=failure))])
    assert [p.routing_key for p in publisher.published] == ["q.dead"]
    assert publisher.published[0].headers[FAILURE_HEADER] == "recipient_refused"
    assert channel.acked == [(1, True)]


def test_a_copy_the_broker_refuses_is_rejected_to_the_queues_own_dead_letter_route_not_acked(
        settlement: Settlement, channel: FakeChannel, publisher: FakeChannel, reports: Reports) -> None:
    d = received(settlement, 2)
    publisher.refuse = 1
    failure = Failure.of(SmtpUnavailable("451"))
    settlement.settle([(d[0], Result(Outcome.RETRY, failure=failure)), (d[1], SENT)])
    assert channel.nacked == [(1, False)]
    assert channel.acked == [(2, True)]
    assert reports.seen == [(Outcome.SENT, None)]


def test_a_delivery_nobody_started_goes_back_to_the_queue(settlement: Settlement, channel: FakeChannel) -> None:
    d = received(settlement, 2)
    settlement.give_back(d[1])
    settlement.settle([(d[0], SENT)])
    assert channel.nacked == [(2, True)]
    assert channel.acked == [(1, True)]


def test_a_result_for_a_delivery_no_longer_held_is_ignored(settlement: Settlement, channel: FakeChannel) -> None:
    d = received(settlement, 1)
    settlement.settle([(d[0], SENT)])
    settlement.settle([(d[0], SENT)])
    assert channel.acked == [(1, True)]


def test_social_is_told_what_became_of_each_mail_before_the_acks(
        settlement: Settlement, channel: FakeChannel, publisher: FakeChannel) -> None:
    import json

    from notifier.pipeline import SkipReason

    d = received(settlement, 3)
    common = {"mail_kind": "follower_email", "user_id": 7, "recipient_domain": "example.com"}
    settlement.settle([
        (d[0], Result(Outcome.SENT, event_id="e1", **common)),
        (d[1], Result(Outcome.SKIPPED, event_id="e2", skip=SkipReason.UNSUBSCRIBED, **common)),
        (d[2], Result(Outcome.DEAD, event_id="e3", address="bob@example.com",
                      failure=Failure.of(SmtpRecipientRefused("550 5.1.1 gone")), **common)),
    ])
    told = [p for p in publisher.published if p.exchange == "notifier.events"]
    assert [p.routing_key for p in told] == ["mail.activity", "mail.bounced"]
    entries = json.loads(told[0].body)["data"]["entries"]
    assert [(e["event_id"], e["outcome"], e["reason"]) for e in entries] == [
        ("e1", "sent", None), ("e2", "skipped", "unsubscribed"), ("e3", "failed", "recipient_refused")]
    bounce = json.loads(told[1].body)["data"]
    assert (bounce["address"], bounce["user_id"]) == ("bob@example.com", 7)
    assert channel.acked_tags() == {1, 2, 3}
