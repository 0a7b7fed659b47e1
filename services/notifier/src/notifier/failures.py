"""What went wrong with a message, and what to do about it: retry later, or dead-letter it.

A failure is a :class:`Failure`: a short stable `kind` (`smtp_unavailable`, `recipient_refused`,
`unreadable.not_json`, `unknown_version`, ...) and a human `detail`. The kind is written to a
dead-letter header of its own (:data:`FAILURE_HEADER`), and metrics, alerts and `notifier dlq
list` all read that, never the free text, so they say the same thing for the same message.

:class:`FailurePolicy` is the one place that decides between a retry (a re-publish to a delay
queue with the attempt count in a header, never a requeue in place) and a dead letter, for the
live consumer and the replays alike; it returns a :class:`Disposition`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from microblog_contracts import DecodeFailure, EventDecodeError
from microblog_plumbing.logs import redact

from notifier.errors import NotifierError, TransientError
from notifier.topology import Topology, retry_queue_name

ATTEMPTS_HEADER = "x-notifier-attempts"
FIRST_FAILURE_HEADER = "x-notifier-first-failure"
LAST_FAILURE_HEADER = "x-notifier-last-failure"
LAST_ERROR_HEADER = "x-notifier-last-error"
FAILURE_HEADER = "x-notifier-failure"
REASON_HEADER = "x-notifier-reason"
DEAD_AT_HEADER = "x-notifier-dead-at"
MAIL_KIND_HEADER = "x-notifier-mail-kind"
ORIGINAL_EXCHANGE_HEADER = "x-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER = "x-original-routing-key"
#: Headers this notifier writes; a dead-letter replay strips them to start the count afresh.
OWN_HEADERS = (
    ATTEMPTS_HEADER, FIRST_FAILURE_HEADER, LAST_FAILURE_HEADER, LAST_ERROR_HEADER, FAILURE_HEADER,
    REASON_HEADER, DEAD_AT_HEADER, MAIL_KIND_HEADER, ORIGINAL_EXCHANGE_HEADER, ORIGINAL_ROUTING_KEY_HEADER,
)
#: Headers the broker adds when it dead-letters or counts deliveries; a replay drops them too.
BROKER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                  "x-delivery-count", "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason")

#: Decode failures that say "this contract cannot read it" are grouped as `unreadable.*`; a type or
#: version this notifier does not know is a deployment matter and keeps a kind of its own.
_DECODE_KINDS = {
    DecodeFailure.UNKNOWN_TYPE: "unknown_type",
    DecodeFailure.UNKNOWN_VERSION: "unknown_version",
}


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a message was not mailed: a stable `kind` code and a human `detail`."""

    kind: str
    detail: str
    transient: bool = False

    @classmethod
    def of(cls, error: NotifierError) -> Failure:
        """The failure a named error stands for."""
        # An SMTP reply often names the address: what goes on (headers, logs, alerts) keeps its domain.
        return cls(error.kind, redact(str(error)) or type(error).__name__, isinstance(error, TransientError))

    @classmethod
    def unreadable(cls, error: EventDecodeError) -> Failure:
        """A body the contract cannot read: permanent, whatever the reason."""
        return cls(_DECODE_KINDS.get(error.failure, f"unreadable.{error.failure.value}"), error.detail)

    @classmethod
    def internal(cls, error: BaseException) -> Failure:
        """A bug of ours: retried, since a fixed and redeployed notifier may well succeed."""
        return cls("internal_error", redact(repr(error))[:300], transient=True)

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class FailureHistory:
    """What the headers of a message say about its earlier failed attempts."""

    attempts: int
    first_failure: str | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, Any] | None) -> FailureHistory:
        headers = headers or {}
        raw = headers.get(ATTEMPTS_HEADER, 0)
        attempts = raw if isinstance(raw, int) and raw >= 0 else 0
        first = headers.get(FIRST_FAILURE_HEADER)
        return cls(attempts, first.decode() if isinstance(first, bytes) else first if isinstance(first, str) else None)


class Action(enum.StrEnum):
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Disposition:
    """The decision for a failed message: where its copy goes, with which headers."""

    action: Action
    queue: str
    headers: dict[str, Any]
    failure: Failure
    attempts: int

    @property
    def reason(self) -> str:
        """The human line an operator reads: the detail, and why the retries stopped."""
        return str(self.headers.get(REASON_HEADER) or self.failure)


class FailurePolicy:
    """Exponential retry steps (10 s, 1 min, 10 min, 1 h, 6 h by default), each spread over a
    few fixed delay queues at random (jitter), capped in count; permanent failures go to the
    dead-letter queue at once."""

    def __init__(self, topology: Topology, max_attempts: int, *, rng: random.Random | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.topology = topology
        self.max_attempts = max_attempts
        self._rng = rng or random.Random()
        self._clock = clock

    def decide(self, headers: Mapping[str, Any] | None, failure: Failure, *, exchange: str, routing_key: str,
               mail_kind: str | None = None) -> Disposition:
        """Where a message that arrived with `headers` from `exchange`/`routing_key` goes after
        failing with `failure`, and the headers its copy carries."""
        history = FailureHistory.from_headers(headers)
        attempts = history.attempts + 1
        stamp = self._clock().isoformat(timespec="milliseconds")
        copied = {k: v for k, v in (headers or {}).items() if k != "x-death"}
        copied.update({
            ATTEMPTS_HEADER: attempts,
            FIRST_FAILURE_HEADER: history.first_failure or stamp,
            LAST_FAILURE_HEADER: stamp,
            LAST_ERROR_HEADER: str(failure)[:500],
            FAILURE_HEADER: failure.kind,
        })
        if mail_kind is not None:
            copied[MAIL_KIND_HEADER] = mail_kind
        if ORIGINAL_ROUTING_KEY_HEADER not in copied:
            copied |= {ORIGINAL_EXCHANGE_HEADER: exchange, ORIGINAL_ROUTING_KEY_HEADER: routing_key}
        if failure.transient and attempts < self.max_attempts:
            return Disposition(Action.RETRY, self._retry_queue(attempts), copied, failure, attempts)
        reason = failure.detail if not failure.transient else f"gave up after {attempts} attempts: {failure.detail}"
        copied |= {REASON_HEADER: reason[:500], DEAD_AT_HEADER: stamp}
        return Disposition(Action.DEAD, self.topology.dead_letter_queue, copied, failure, attempts)

    def _retry_queue(self, attempts: int) -> str:
        steps = self.topology.retry_steps_ms
        step = steps[min(attempts - 1, len(steps) - 1)]
        return retry_queue_name(self.topology.queue, self._rng.choice(step))
