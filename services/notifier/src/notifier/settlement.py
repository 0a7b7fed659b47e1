"""Settling deliveries: the one place that acks, nacks, retries and dead-letters.

A :class:`Settlement` belongs to one channel (one connection's life). Results come back from the
worker threads in any order; a failure's copy goes to its delay or dead-letter queue first
(confirmed by the broker), then the original is acked: a run of ready deliveries at the head of
the ones in hand with one `multiple` ack, any others one by one, never waiting for a slow one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import structlog
from pika.spec import BasicProperties

from notifier import activity
from notifier.broker import PublishChannel, Received, copy_message
from notifier.errors import RepublishRefused
from notifier.failures import Disposition, Failure, FailurePolicy
from notifier.pipeline import Outcome, Result

log = structlog.get_logger("notifier.consumer")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as received, with the connection generation it belongs to."""

    generation: int
    tag: int
    exchange: str
    routing_key: str
    properties: BasicProperties
    body: bytes
    redelivered: bool
    received_at: float

    @property
    def received(self) -> Received:
        return Received(self.body, self.properties, self.exchange, self.routing_key)


class AckChannel(Protocol):
    """What settling needs of a pika channel (a fake in unit tests)."""

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None: ...

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True) -> None: ...


class Report(Protocol):
    def __call__(self, result: Result, disposition: Disposition | None, *, message_id: str | None,
                 redelivered: bool, duration_ms: float) -> None: ...


class Settlement:
    """The deliveries received on one channel and not yet settled, in the order they arrived."""

    def __init__(self, channel: AckChannel, publisher: PublishChannel, policy: FailurePolicy, report: Report,
                 *, as_user: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.channel = channel
        self.publisher = publisher
        self.policy = policy
        self.report = report
        #: The notifier's own AMQP user, which its copies (retries, dead letters) are published as.
        self.as_user = as_user
        self.clock = clock
        self._in_hand: dict[int, Delivery] = {}

    def __len__(self) -> int:
        return len(self._in_hand)

    def track(self, delivery: Delivery) -> None:
        """A delivery has arrived and is being worked on."""
        self._in_hand[delivery.tag] = delivery

    def holds(self, delivery: Delivery) -> bool:
        return self._in_hand.get(delivery.tag) is delivery

    def give_back(self, delivery: Delivery) -> None:
        """Return a delivery nobody started (stopping) to the queue for another consumer.

        Explicitly: left unacked, a later `multiple` ack of a higher tag would ack it unsent.
        """
        if self._in_hand.pop(delivery.tag, None) is not None:
            self.channel.basic_nack(delivery.tag, requeue=True)

    def settle(self, results: Iterable[tuple[Delivery, Result]]) -> None:
        """Carry out each result, tell social what became of the mails, then ack what may be acked."""
        ready: dict[int, Result] = {}
        for delivery, result in results:
            if self.holds(delivery) and self._carry_out(delivery, result):
                ready[delivery.tag] = result
        if ready:
            activity.publish(self.publisher, activity.activity_events(ready.values()))
            self._ack(set(ready))

    def _carry_out(self, delivery: Delivery, result: Result) -> bool:
        """Publish a failure's copy where the policy says; True if the delivery may now be acked."""
        disposition = None
        if result.outcome in (Outcome.RETRY, Outcome.DEAD):
            failure = result.failure or Failure("internal_error", "a failure without a reason", transient=True)
            disposition = self.policy.decide(delivery.properties.headers, failure, exchange=delivery.exchange,
                                             routing_key=delivery.routing_key, mail_kind=result.mail_kind)
            try:
                copy_message(self.publisher, delivery.received, disposition.queue, disposition.headers,
                             as_user=self.as_user)
            except RepublishRefused as exc:
                # Reject it: the work queue's own dead-letter route keeps it, with x-death.
                log.error("republish_refused", error=str(exc), event_id=delivery.properties.message_id)
                del self._in_hand[delivery.tag]
                self.channel.basic_nack(delivery.tag, requeue=False)
                return False
        self.report(result, disposition, message_id=delivery.properties.message_id,
                    redelivered=delivery.redelivered, duration_ms=(self.clock() - delivery.received_at) * 1000)
        return True

    def _ack(self, ready: set[int]) -> None:
        head: int | None = None
        for tag in self._in_hand:
            if tag not in ready:
                break
            head = tag
        if head is not None:
            self.channel.basic_ack(head, multiple=True)
        for tag in ready:
            del self._in_hand[tag]
            if head is None or tag > head:
                self.channel.basic_ack(tag)
