"""The one failure decision: retry through a delay queue, or dead-letter, and the headers it writes."""

from __future__ import annotations

import random
from datetime import timedelta

from microblog_contracts import DecodeFailure, EventDecodeError
from notifier.errors import SmtpAuthRefused, SmtpRecipientRefused, SmtpUnavailable
from notifier.failures import (
    ATTEMPTS_HEADER,
    FAILURE_HEADER,
    FIRST_FAILURE_HEADER,
    MAIL_KIND_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    REASON_HEADER,
    Action,
    Failure,
    FailureHistory,
    FailurePolicy,
)
from notifier.topology import Topology, jittered_delays_ms, retry_queue_name

STEPS = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=10))
OUTAGE = Failure.of(SmtpUnavailable("421 4.3.2 shutting down"))


def topology() -> Topology:
    return Topology(
        queue="q", queue_type="quorum",
        retry_steps_ms=tuple(tuple(jittered_delays_ms(d, 0.1)) for d in STEPS),
        stream="s", stream_max_age="7D", stream_max_bytes=2**30, routing_keys=("user.followed",),
    )


def decide(policy: FailurePolicy, headers: dict[str, object] | None, failure: Failure = OUTAGE):
    return policy.decide(headers, failure, exchange="social.events", routing_key="user.followed",
                         mail_kind="follower_email")


def delay_of(queue: str) -> int:
    return int(queue.rsplit(".", 1)[1].removesuffix("ms"))


def test_each_retry_waits_longer_than_the_one_before() -> None:
    policy = FailurePolicy(topology(), max_attempts=10, rng=random.Random(1))
    delays = [delay_of(decide(policy, {ATTEMPTS_HEADER: n}).queue) for n in range(3)]
    assert 9000 <= delays[0] <= 11000
    assert 54000 <= delays[1] <= 66000
    assert 540000 <= delays[2] <= 660000


def test_retries_past_the_schedule_keep_the_last_step() -> None:
    decision = decide(FailurePolicy(topology(), max_attempts=10, rng=random.Random(1)), {ATTEMPTS_HEADER: 7})
    assert decision.action is Action.RETRY
    assert decision.queue.startswith("q.retry.")
    assert delay_of(decision.queue) >= 540000


def test_at_the_give_up_point_the_failure_keeps_its_kind_and_the_reason_says_why_it_stopped() -> None:
    policy = FailurePolicy(topology(), max_attempts=3)
    assert decide(policy, {ATTEMPTS_HEADER: 1}).action is Action.RETRY
    dead = decide(policy, {ATTEMPTS_HEADER: 2})
    assert (dead.action, dead.queue, dead.attempts) == (Action.DEAD, "q.dead", 3)
    assert dead.headers[FAILURE_HEADER] == "smtp_unavailable"
    assert dead.headers[REASON_HEADER] == "gave up after 3 attempts: 421 4.3.2 shutting down"
    assert dead.headers[MAIL_KIND_HEADER] == "follower_email"


def test_a_permanent_failure_is_dead_lettered_at_the_first_attempt() -> None:
    dead = decide(FailurePolicy(topology(), max_attempts=6), None,
                  Failure.of(SmtpRecipientRefused("recipient refused: 550 5.1.1 gone")))
    assert (dead.action, dead.attempts) == (Action.DEAD, 1)
    assert dead.headers[FAILURE_HEADER] == "recipient_refused"
    assert dead.headers[REASON_HEADER] == "recipient refused: 550 5.1.1 gone"
    assert dead.headers[ORIGINAL_ROUTING_KEY_HEADER] == "user.followed"


def test_each_failure_kind_comes_from_its_error_or_decode_reason() -> None:
    assert Failure.of(SmtpAuthRefused("login refused")).kind == "smtp_auth_refused"
    assert Failure.unreadable(EventDecodeError(DecodeFailure.NOT_JSON, "x")).kind == "unreadable.not_json"
    assert Failure.unreadable(EventDecodeError(DecodeFailure.UNKNOWN_VERSION, "x")).kind == "unknown_version"
    assert Failure.unreadable(EventDecodeError(DecodeFailure.UNKNOWN_TYPE, "x")).kind == "unknown_type"


def test_jitter_spreads_one_step_over_three_fixed_delay_queues() -> None:
    assert jittered_delays_ms(timedelta(seconds=10), 0.1) == [9000, 10000, 11000]
    assert jittered_delays_ms(timedelta(seconds=10), 0) == [10000]


def test_queue_names_come_from_pure_functions() -> None:
    assert retry_queue_name("q", 9000) == "q.retry.9000ms"
    assert topology().dead_letter_queue == "q.dead"
    assert len(topology().retry_queues) == 9


def test_each_copy_counts_attempts_keeps_the_first_failure_time_and_other_headers() -> None:
    policy = FailurePolicy(topology(), max_attempts=10)
    first = decide(policy, {"custom": "kept"}).headers
    again = decide(policy, first).headers
    assert again["custom"] == "kept"
    assert again[ATTEMPTS_HEADER] == 2
    assert again[FIRST_FAILURE_HEADER] == first[FIRST_FAILURE_HEADER]


def test_a_history_read_from_garbage_headers_counts_from_zero() -> None:
    assert FailureHistory.from_headers({ATTEMPTS_HEADER: "many"}).attempts == 0
    assert FailureHistory.from_headers(None).attempts == 0


def test_a_failure_names_an_address_by_its_domain_only() -> None:
    failure = Failure.of(SmtpRecipientRefused("recipient refused: {'bob.smith@example.com': (550, b'5.1.1 "
                                              "<bob.smith@example.com>: Recipient address rejected')}"))
    assert "bob.smith" not in failure.detail
    assert failure.detail.count("…@example.com") == 2
    assert "bob@" not in Failure.internal(ValueError("bob@example.org")).detail
