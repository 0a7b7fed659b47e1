"""Where a failed message goes next: a delay queue (retry) or the dead-letter queue, with the
headers that carry its history. Used by the consumer and by replays alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import BasicProperties

from notifier.pipeline import Outcome, Result
from notifier.retry import (
    DEAD_AT_HEADER,
    ORIGINAL_EXCHANGE_HEADER,
    ORIGINAL_ROUTING_KEY_HEADER,
    REASON_HEADER,
    FailureHistory,
    RetryPolicy,
    failure_headers,
)
from notifier.topology import Topology


class RepublishRefused(Exception):
    """The broker would not take the copy (unroutable or nacked)."""


@dataclass(frozen=True, slots=True)
class Received:
    """A message as it arrived: enough to publish a faithful copy."""

    body: bytes
    properties: BasicProperties
    exchange: str
    routing_key: str


@dataclass(frozen=True, slots=True)
class Route:
    """The decision for a failed message."""

    outcome: Outcome  # RETRY or DEAD
    queue: str
    headers: dict[str, Any]
    reason: str
    attempts: int


class FailureRouter:
    """Turns a RETRY or DEAD result into a :class:`Route`, and publishes along it."""

    def __init__(self, topology: Topology, policy: RetryPolicy) -> None:
        self.topology = topology
        self.policy = policy

    def plan(self, message: Received, result: Result) -> Route:
        headers = dict(message.properties.headers or {})
        history = FailureHistory.from_headers(headers)
        reason = result.reason or "unknown"
        origin = self._origin(message)
        if result.outcome is Outcome.RETRY:
            decision = self.policy.after_failure(history)
            if decision.queue is not None:
                retry_headers = failure_headers(headers, history, decision.attempts, reason) | origin
                return Route(Outcome.RETRY, decision.queue, retry_headers, reason, decision.attempts)
            reason = f"gave up after {decision.attempts} attempts: {reason}"
            attempts = decision.attempts
        else:
            attempts = history.attempts + 1
        dead_headers = failure_headers(headers, history, attempts, reason) | origin | {
            REASON_HEADER: reason[:500],
            DEAD_AT_HEADER: datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return Route(Outcome.DEAD, self.topology.dead_letter_queue, dead_headers, reason, attempts)

    @staticmethod
    def _origin(message: Received) -> dict[str, Any]:
        if ORIGINAL_ROUTING_KEY_HEADER in (message.properties.headers or {}):
            return {}
        return {ORIGINAL_EXCHANGE_HEADER: message.exchange, ORIGINAL_ROUTING_KEY_HEADER: message.routing_key}

    @staticmethod
    def publish(channel: BlockingChannel, message: Received, route: Route) -> None:
        """Publish the copy on a confirming channel; returns once the broker has it."""
        copy_message(channel, message, route.queue, route.headers)


def copy_message(channel: BlockingChannel, message: Received, queue: str, headers: dict[str, Any]) -> None:
    """Publish `message` to `queue` (through the default exchange) with `headers`, persistent,
    keeping its id and content properties; raise RepublishRefused if the broker won't take it."""
    p = message.properties
    properties = BasicProperties(
        content_type=p.content_type, content_encoding=p.content_encoding, message_id=p.message_id,
        timestamp=p.timestamp, type=p.type, app_id=p.app_id, delivery_mode=2, headers=headers,
    )
    try:
        channel.basic_publish("", queue, message.body, properties, mandatory=True)
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
        raise RepublishRefused(f"{type(exc).__name__} publishing to {queue}") from None
