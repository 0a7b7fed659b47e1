"""When to try a failed message again, and when to give up on it.

A retry is a re-publish to a delay queue with the attempt count in a header; the delay queue
hands the message back to the work queue when its TTL runs out. Never a requeue in place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from notifier.topology import Topology, retry_queue_name

ATTEMPTS_HEADER = "x-notifier-attempts"
FIRST_FAILURE_HEADER = "x-notifier-first-failure"
LAST_FAILURE_HEADER = "x-notifier-last-failure"
LAST_ERROR_HEADER = "x-notifier-last-error"
REASON_HEADER = "x-notifier-reason"
DEAD_AT_HEADER = "x-notifier-dead-at"
ORIGINAL_EXCHANGE_HEADER = "x-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER = "x-original-routing-key"
#: Headers this notifier writes; a replay strips them to start the count afresh.
OWN_HEADERS = (
    ATTEMPTS_HEADER, FIRST_FAILURE_HEADER, LAST_FAILURE_HEADER, LAST_ERROR_HEADER, REASON_HEADER,
    DEAD_AT_HEADER, ORIGINAL_EXCHANGE_HEADER, ORIGINAL_ROUTING_KEY_HEADER,
)


@dataclass(frozen=True)
class FailureHistory:
    """What the headers of a message say about its earlier failed attempts."""

    attempts: int
    first_failure: str | None

    @classmethod
    def from_headers(cls, headers: dict[str, Any] | None) -> FailureHistory:
        headers = headers or {}
        raw = headers.get(ATTEMPTS_HEADER, 0)
        attempts = raw if isinstance(raw, int) and raw >= 0 else 0
        first = headers.get(FIRST_FAILURE_HEADER)
        return cls(attempts, first.decode() if isinstance(first, bytes) else first if isinstance(first, str) else None)


@dataclass(frozen=True)
class RetryDecision:
    """`queue` is the delay queue to publish to, or None: out of attempts, dead-letter it."""

    queue: str | None
    attempts: int


class RetryPolicy:
    """Exponential steps (10 s, 1 min, 10 min, 1 h, 6 h by default), jittered, capped in count."""

    def __init__(self, topology: Topology, max_attempts: int, rng: random.Random | None = None) -> None:
        self.topology = topology
        self.max_attempts = max_attempts
        self._rng = rng or random.Random()

    def after_failure(self, history: FailureHistory) -> RetryDecision:
        """Where a message goes after its `history.attempts + 1`-th failed attempt."""
        attempts = history.attempts + 1
        if attempts >= self.max_attempts:
            return RetryDecision(None, attempts)
        steps = self.topology.retry_steps_ms
        step = steps[min(attempts - 1, len(steps) - 1)]
        return RetryDecision(retry_queue_name(self.topology.queue, self._rng.choice(step)), attempts)


def failure_headers(
    original: dict[str, Any] | None, history: FailureHistory, attempts: int, error: str, now: datetime | None = None
) -> dict[str, Any]:
    """The original headers plus the failure count and times, for a retry or dead-letter copy."""
    stamp = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    headers = {k: v for k, v in (original or {}).items() if k != "x-death"}
    headers.update({
        ATTEMPTS_HEADER: attempts,
        FIRST_FAILURE_HEADER: history.first_failure or stamp,
        LAST_FAILURE_HEADER: stamp,
        LAST_ERROR_HEADER: error[:500],
    })
    return headers
