"""The inbox's queues, named by pure functions and declared idempotently in one place.

    notifier.events (topic) --mail.activity, mail.bounced--> social.mail-activity  (quorum)
    social.mail-activity.dead   messages social cannot read, kept for an operator
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from microblog_contracts import MAIL_ACTIVITY, MAIL_BOUNCED, NOTIFIER_EXCHANGE

INBOX_QUEUE = "social.mail-activity"
#: The event types the inbox is bound to.
INBOX_EVENT_TYPES = (MAIL_ACTIVITY, MAIL_BOUNCED)
#: Deliveries after which the broker dead-letters a message the consumer never settled (say,
#: one that kills the process): the safety net under the consumer's own dead-lettering.
DELIVERY_LIMIT = 20


def dead_letter_queue_name(queue: str) -> str:
    """Where the messages of `queue` that cannot be read wait for an operator."""
    return f"{queue}.dead"


class DeclaringChannel(Protocol):
    def exchange_declare(self, exchange: str, exchange_type: str, durable: bool) -> Any: ...

    def queue_declare(self, queue: str, durable: bool, arguments: dict[str, Any]) -> Any: ...

    def queue_bind(self, queue: str, exchange: str, routing_key: str) -> Any: ...


@dataclass(frozen=True)
class InboxTopology:
    queue: str = INBOX_QUEUE
    exchange: str = NOTIFIER_EXCHANGE
    routing_keys: tuple[str, ...] = INBOX_EVENT_TYPES

    @property
    def dead_letter_queue(self) -> str:
        return dead_letter_queue_name(self.queue)

    def declare(self, channel: DeclaringChannel) -> None:
        """Declare the exchange (as the notifier does), the queue and its dead letters; bind."""
        channel.exchange_declare(exchange=self.exchange, exchange_type="topic", durable=True)
        channel.queue_declare(queue=self.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_declare(
            queue=self.queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dead_letter_queue,
            },
        )
        for routing_key in self.routing_keys:
            channel.queue_bind(queue=self.queue, exchange=self.exchange, routing_key=routing_key)
