"""What the notifier takes from its queues at all, decided as a message arrives, before its body is
read: a message whose publisher it trusts, no bigger than an event can be.

The publisher is the AMQP `user_id` property, which RabbitMQ checks against the user of the
connection that published it (a connection cannot claim another user). Social's relay sets it on
every event; the notifier sets its own user on every copy it publishes (retries, dead-letter and
stream replays) and keeps the original publisher in :data:`~notifier.broker.ORIGINAL_USER_HEADER`.
Anyone else able to publish to `social.events` (a leaked or shared broker login) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from microblog_contracts import MAX_EVENT_BYTES, DecodeFailure, EventDecodeError
from pika.spec import BasicProperties

from notifier.failures import Failure

#: The failure kind of a message from a publisher the notifier does not trust.
UNTRUSTED_PUBLISHER = "untrusted_publisher"


@dataclass(frozen=True)
class Admission:
    """Whom the notifier takes events from (`trusted`, always with its `own_user`), and how big."""

    own_user: str
    trusted: frozenset[str]
    max_bytes: int = MAX_EVENT_BYTES

    def refusal(self, properties: BasicProperties, body: bytes) -> Failure | None:
        """Why a message is refused at the door (dead-lettered at once, never parsed), or None."""
        publisher = properties.user_id
        if publisher is None or (publisher != self.own_user and publisher not in self.trusted):
            who = f"AMQP user {publisher!r}" if publisher is not None else "a publisher that set no user_id"
            return Failure(UNTRUSTED_PUBLISHER, f"published by {who}, not one of NOTIFIER_TRUSTED_PUBLISHERS")
        if len(body) > self.max_bytes:
            too_large = EventDecodeError(DecodeFailure.TOO_LARGE, f"{len(body)} bytes > {self.max_bytes}")
            return Failure.unreadable(too_large)
        return None
