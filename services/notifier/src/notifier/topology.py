"""Every exchange, queue and binding the notifier uses: names from pure functions, declared
idempotently in one place.

    social.events (topic) --<event types>--> <queue>            work queue (the mail kinds' event types)
                          --announcement.*-> <queue>.bulk       announcements' events, taken after the work queue's
                          --#--------------> social.events.log  stream, the event log for replay
    <queue>.retry.<ms>  delay queues: TTL, then dead-lettered back to <queue>
    <queue>.dead        dead letters, kept until an operator replays or purges them
    notifier.events (topic)                                     what the notifier tells (mail.activity, mail.bounced)

On a cluster every queue is replicated by RabbitMQ's defaults (those of 3.10): a quorum queue on
three nodes (`quorum_cluster_size`; all of a three-node cluster), the stream on every node, so the
loss of any one node of three loses nothing. Neither `x-quorum-initial-group-size` nor
`x-initial-cluster-size` is set: RabbitMQ compares them at every declare, and one set now would make
every deployment's existing queues refuse the declare. A queue declared before its cluster had
three nodes keeps the replicas it got; `rabbitmq-queues grow` adds the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from microblog_contracts import EXCHANGE, NOTIFIER_EXCHANGE
from pika.adapters.blocking_connection import BlockingChannel

from notifier.settings import NotifierSettings

#: Deliveries of one message after which a quorum work queue dead-letters it unprocessed.
WORK_QUEUE_DELIVERY_LIMIT = 20


def retry_queue_name(queue: str, delay_ms: int) -> str:
    """The delay queue that holds messages for `delay_ms` before they return to `queue`."""
    return f"{queue}.retry.{delay_ms}ms"


def dead_letter_queue_name(queue: str) -> str:
    """Where messages that cannot be delivered wait for an operator."""
    return f"{queue}.dead"


def jittered_delays_ms(delay: timedelta, jitter: float) -> list[int]:
    """The delay queues behind one retry step: the step itself and one either side by `jitter`.

    A queue's TTL only expires messages at its head, so jitter comes from picking one of a few
    fixed-TTL queues at random, never from per-message expiry.
    """
    base = round(delay.total_seconds() * 1000)
    spread = {round(base * (1 - jitter)), base, round(base * (1 + jitter))}
    return sorted(max(1, ms) for ms in spread)


@dataclass(frozen=True)
class Topology:
    """The names and arguments for one notifier deployment."""

    queue: str
    queue_type: str
    retry_steps_ms: tuple[tuple[int, ...], ...]
    stream: str
    stream_max_age: str
    stream_max_bytes: int
    routing_keys: tuple[str, ...]
    exchange: str = EXCHANGE
    #: Event types for the bulk queue (announcements): consumed with a small prefetch beside the
    #: work queue, so a flood of them never holds up a password reset.
    bulk_routing_keys: tuple[str, ...] = ()
    #: The bytes the work queue (and the bulk queue) may hold; past it a publish is refused (the
    #: relay's confirm is a nack, so it keeps the event and tries again), never a message dropped.
    #: None: no such argument (a policy may bound the queue instead).
    queue_max_bytes: int | None = None

    @classmethod
    def from_settings(cls, settings: NotifierSettings, routing_keys: tuple[str, ...],
                      bulk_routing_keys: tuple[str, ...] = ()) -> Topology:
        """The topology `settings` ask for, its work queue bound to `routing_keys` (the event types
        of the mail kinds), its bulk queue to `bulk_routing_keys`."""
        return cls(
            routing_keys=routing_keys,
            bulk_routing_keys=bulk_routing_keys,
            queue=settings.notifier_queue,
            queue_type=settings.notifier_queue_type,
            retry_steps_ms=tuple(
                tuple(jittered_delays_ms(d, settings.notifier_retry_jitter))
                for d in settings.notifier_retry_delays
            ),
            stream=settings.notifier_stream,
            stream_max_age=settings.notifier_stream_max_age,
            stream_max_bytes=settings.notifier_stream_max_bytes,
            queue_max_bytes=settings.notifier_queue_max_bytes or None,
        )

    @property
    def bulk_queue(self) -> str | None:
        """The queue of announcements' events, if this deployment takes them."""
        return f"{self.queue}.bulk" if self.bulk_routing_keys else None

    @property
    def dead_letter_queue(self) -> str:
        return dead_letter_queue_name(self.queue)

    @property
    def retry_queues(self) -> list[str]:
        return [retry_queue_name(self.queue, ms) for step in self.retry_steps_ms for ms in step]

    def _durable_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": self.queue_type}

    def declare(self, channel: BlockingChannel) -> None:
        """Declare everything; safe to repeat, and the same on every notifier process."""
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(NOTIFIER_EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_declare(self.queue, durable=True, arguments=self._work_queue_arguments())
        for routing_key in self.routing_keys:
            channel.queue_bind(self.queue, self.exchange, routing_key=routing_key)
        if self.bulk_queue is not None:
            channel.queue_declare(self.bulk_queue, durable=True, arguments=self._work_queue_arguments())
            for routing_key in self.bulk_routing_keys:
                channel.queue_bind(self.bulk_queue, self.exchange, routing_key=routing_key)
        channel.queue_declare(self.dead_letter_queue, durable=True, arguments=self._durable_arguments())
        for step in self.retry_steps_ms:
            for ms in step:
                channel.queue_declare(
                    retry_queue_name(self.queue, ms),
                    durable=True,
                    arguments={
                        **self._durable_arguments(),
                        "x-message-ttl": ms,
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": self.queue,
                        **self._safe_dead_lettering(),
                    },
                )
        channel.queue_declare(
            self.stream,
            durable=True,
            arguments={
                "x-queue-type": "stream",
                "x-max-age": self.stream_max_age,
                "x-max-length-bytes": self.stream_max_bytes,
                "x-stream-max-segment-size-bytes": min(100 * 1024**2, self.stream_max_bytes // 4),
            },
        )
        channel.queue_bind(self.stream, self.exchange, routing_key="#")

    def _work_queue_arguments(self) -> dict[str, Any]:
        arguments = self._durable_arguments()
        if self.queue_max_bytes is not None:
            # A bound on what a flood can pile up. RabbitMQ compares these at every declare: a queue
            # declared before them (or with another bound) refuses with PRECONDITION_FAILED until
            # it is drained and deleted, or the bound is set by a policy instead (README).
            arguments |= {"x-max-length-bytes": self.queue_max_bytes, "x-overflow": "reject-publish"}
        if self.queue_type == "quorum":
            # A safety net for a message that kills the process itself (the consumer never gets
            # to settle it): after this many deliveries the broker dead-letters it.
            arguments |= {
                "x-delivery-limit": WORK_QUEUE_DELIVERY_LIMIT,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dead_letter_queue,
            }
        return arguments

    def _safe_dead_lettering(self) -> dict[str, Any]:
        # Quorum queues can dead-letter at-least-once, so a crash while a delay expires loses
        # nothing; that needs reject-publish overflow.
        if self.queue_type == "quorum":
            return {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        return {}
