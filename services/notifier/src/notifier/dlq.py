"""The dead-letter queue, for operators: look at it, replay what a fix has made deliverable,
purge what never will be.

Browsing takes messages without acking them and closes the channel at the end, so the broker
puts back everything not replayed or purged. A replay publishes each copy to the work queue
(attempt count reset), waits for the broker's confirm, and only then acks the dead letter:
interrupted halfway, nothing is lost, and the ledger folds the one copy that may repeat.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pika.spec import BasicProperties

from notifier.broker import Brokers, Channels, Received, copy_message, open_channels
from notifier.failures import (
    ATTEMPTS_HEADER,
    BROKER_HEADERS,
    DEAD_AT_HEADER,
    FAILURE_HEADER,
    FIRST_FAILURE_HEADER,
    LAST_FAILURE_HEADER,
    MAIL_KIND_HEADER,
    OWN_HEADERS,
    REASON_HEADER,
)
from notifier.topology import Topology


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return None if value is None else str(value)


def _moment(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return value.astimezone(UTC) if isinstance(value, datetime) else None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DeadLetter:
    """One message in the dead-letter queue, as an operator wants to see it."""

    tag: int
    message_id: str | None
    failure: str  # the failure's stable kind: what `dlq list` groups by
    reason: str  # the human detail
    mail_kind: str | None
    attempts: int
    first_failure: datetime | None
    dead_at: datetime | None
    body: bytes
    properties: BasicProperties

    @classmethod
    def read(cls, tag: int, properties: BasicProperties, body: bytes) -> DeadLetter:
        headers: dict[str, Any] = dict(properties.headers or {})
        failure = _text(headers.get(FAILURE_HEADER))
        reason = _text(headers.get(REASON_HEADER))
        dead_at = _moment(headers.get(DEAD_AT_HEADER))
        if failure is None and reason is None:  # dead-lettered by the broker itself
            deaths = headers.get("x-death") or [{}]
            cause = _text(deaths[0].get("reason")) or "unknown"
            failure, reason = f"broker.{cause}", f"the broker dead-lettered it ({cause})"
            dead_at = dead_at or _moment(deaths[0].get("time"))
        attempts = headers.get(ATTEMPTS_HEADER)
        return cls(
            tag=tag,
            message_id=properties.message_id,
            # Letters from before failure kinds had a header of their own say only a reason.
            failure=failure or "unclassified",
            reason=reason or failure or "",
            mail_kind=_text(headers.get(MAIL_KIND_HEADER)),
            attempts=attempts if isinstance(attempts, int) else 0,
            first_failure=_moment(headers.get(FIRST_FAILURE_HEADER)) or _moment(headers.get(LAST_FAILURE_HEADER)),
            dead_at=dead_at,
            body=body,
            properties=properties,
        )


@dataclass(frozen=True)
class Filters:
    """Which dead letters a command applies to; every given condition must hold.

    `reason` matches the failure kind or a part of the human reason, case-insensitively.
    """

    reason: str | None = None
    event_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def match(self, letter: DeadLetter) -> bool:
        if self.reason is not None:
            wanted = self.reason.lower()
            if wanted not in letter.failure.lower() and wanted not in letter.reason.lower():
                return False
        if self.event_id is not None and letter.message_id != self.event_id:
            return False
        if self.since is not None and (letter.dead_at is None or letter.dead_at < self.since):
            return False
        return not (self.until is not None and (letter.dead_at is None or letter.dead_at > self.until))


class DeadLetterBrowser:
    """Walks the dead letters present when it starts, each exactly once; replays them as `as_user`
    (the notifier's own AMQP user)."""

    def __init__(self, channels: Channels, topology: Topology, as_user: str) -> None:
        self.channels = channels
        self.topology = topology
        self.as_user = as_user

    def letters(self, filters: Filters, limit: int | None = None) -> Iterator[DeadLetter]:
        """The matching letters, oldest first; non-matching ones are left for the broker to keep."""
        channel = self.channels.channel
        present = channel.queue_declare(self.topology.dead_letter_queue, passive=True).method.message_count
        yielded = 0
        for _ in range(present):
            if limit is not None and yielded >= limit:
                return
            method, properties, body = channel.basic_get(self.topology.dead_letter_queue, auto_ack=False)
            if method is None or method.delivery_tag is None or properties is None:
                return
            letter = DeadLetter.read(method.delivery_tag, properties, body or b"")
            if filters.match(letter):
                yielded += 1
                yield letter

    def replay(self, letter: DeadLetter) -> None:
        """Back to the work queue with a fresh attempt count, confirmed, then removed from here.

        The copy is the notifier's own, which it trusts: replaying a letter refused as
        `untrusted_publisher` is the operator vouching for it."""
        headers = {k: v for k, v in (letter.properties.headers or {}).items()
                   if k not in OWN_HEADERS and k not in BROKER_HEADERS}
        copy_message(self.channels.publisher,
                     Received(letter.body, letter.properties, "", self.topology.dead_letter_queue),
                     self.topology.queue, headers, as_user=self.as_user)
        self.channels.channel.basic_ack(letter.tag)

    def purge(self, letter: DeadLetter) -> None:
        self.channels.channel.basic_ack(letter.tag)


@contextmanager
def open_dead_letters(brokers: Brokers, topology: Topology, as_user: str) -> Iterator[DeadLetterBrowser]:
    """A browser on its own connection (to the first of `brokers` that answers, as `as_user`);
    whatever it did not ack goes back when it closes. Raises BrokerUnavailable."""
    with open_channels(brokers) as channels:
        topology.declare(channels.channel)
        yield DeadLetterBrowser(channels, topology, as_user)
