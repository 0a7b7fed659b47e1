from __future__ import annotations

import random
from datetime import timedelta

from notifier.retry import ATTEMPTS_HEADER, FIRST_FAILURE_HEADER, FailureHistory, RetryPolicy, failure_headers
from notifier.topology import Topology, jittered_delays_ms, retry_queue_name

STEPS = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=10))


def topology() -> Topology:
    return Topology(
        queue="q", queue_type="quorum",
        retry_steps_ms=tuple(tuple(jittered_delays_ms(d, 0.1)) for d in STEPS),
        stream="s", stream_max_age="7D", stream_max_bytes=2**30,
    )


def test_each_retry_waits_longer_than_the_one_before() -> None:
    policy = RetryPolicy(topology(), max_attempts=10, rng=random.Random(1))
    queues = [policy.after_failure(FailureHistory(n, None)).queue for n in range(3)]
    delays = [int(q.rsplit(".", 1)[1].removesuffix("ms")) for q in queues if q]
    assert 9000 <= delays[0] <= 11000
    assert 54000 <= delays[1] <= 66000
    assert 540000 <= delays[2] <= 660000


def test_retries_past_the_schedule_keep_the_last_step() -> None:
    policy = RetryPolicy(topology(), max_attempts=10, rng=random.Random(1))
    decision = policy.after_failure(FailureHistory(7, None))
    assert decision.queue is not None
    assert decision.queue.startswith("q.retry.")
    assert int(decision.queue.rsplit(".", 1)[1].removesuffix("ms")) >= 540000


def test_the_last_allowed_attempt_is_not_retried() -> None:
    policy = RetryPolicy(topology(), max_attempts=3)
    assert policy.after_failure(FailureHistory(1, None)).queue is not None
    decision = policy.after_failure(FailureHistory(2, None))
    assert decision.queue is None
    assert decision.attempts == 3


def test_jitter_spreads_one_step_over_three_fixed_delay_queues() -> None:
    assert jittered_delays_ms(timedelta(seconds=10), 0.1) == [9000, 10000, 11000]
    assert jittered_delays_ms(timedelta(seconds=10), 0) == [10000]


def test_queue_names_come_from_pure_functions() -> None:
    assert retry_queue_name("q", 9000) == "q.retry.9000ms"
    assert topology().dead_letter_queue == "q.dead"
    assert len(topology().retry_queues) == 9


def test_failure_headers_count_attempts_and_keep_the_first_failure_time() -> None:
    first = failure_headers({"custom": "kept"}, FailureHistory(0, None), 1, "SmtpUnavailable: refused")
    again = failure_headers(first, FailureHistory.from_headers(first), 2, "SmtpUnavailable: refused")
    assert again["custom"] == "kept"
    assert again[ATTEMPTS_HEADER] == 2
    assert again[FIRST_FAILURE_HEADER] == first[FIRST_FAILURE_HEADER]


def test_a_history_read_from_garbage_headers_counts_from_zero() -> None:
    assert FailureHistory.from_headers({ATTEMPTS_HEADER: "many"}).attempts == 0
    assert FailureHistory.from_headers(None).attempts == 0
