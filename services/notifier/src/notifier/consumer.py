"""The RabbitMQ side of the notifier: consume, hand work to the SMTP workers, settle.

One thread owns the connection: it consumes, services heartbeats, and is the only place that
acks, re-publishes or dead-letters (:meth:`Consumer._settle`). Worker threads, one SMTP
session each, run the pipeline and hand results back with `add_callback_threadsafe`, so a slow
SMTP server never starves the heartbeat. A delivery is only ever settled on the channel it
arrived on: after a reconnect the broker redelivers what was in flight, and the ledger folds
the copies of mails that had gone out.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pika
import pika.exceptions
import structlog
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.spec import Basic, BasicProperties

from notifier.alerts import DeadLetterAlerts
from notifier.metrics import NotifierMetrics
from notifier.pipeline import FollowerMailPipeline, Outcome, Result
from notifier.reconnect import Backoff
from notifier.retry import RetryPolicy
from notifier.routing import FailureRouter, Received, RepublishRefused
from notifier.topology import Topology
from notifier.transport import SmtpTransport

log = structlog.get_logger("notifier.consumer")

#: pika's errors that mean "this connection or channel is gone": reconnect.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (pika.exceptions.AMQPError, OSError)


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


def connection_parameters(amqp_url: str, heartbeat: int, name: str) -> pika.URLParameters:
    """Parameters for `amqp_url` with our heartbeat, timeouts and a connection name."""
    params = pika.URLParameters(amqp_url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.client_properties = {"connection_name": f"{name} {socket.gethostname()}"}
    return params


def broker_error(exc: BaseException) -> str:
    """One line naming why a broker connection failed. pika's AMQPConnectionError prints as
    nothing: its cause (a refused socket, a refused login, a missing vhost) is in its args."""
    details = [repr(arg) if isinstance(arg, BaseException) else str(arg) for arg in exc.args]
    detail = "; ".join(d for d in details if d) if isinstance(exc, pika.exceptions.AMQPError) else str(exc)
    return f"{type(exc).__name__}: {detail or 'no detail'}"


class Consumer:
    """Consumes the work queue until asked to stop; reconnects when the broker goes away."""

    def __init__(
        self,
        *,
        parameters: pika.URLParameters,
        topology: Topology,
        pipeline: FollowerMailPipeline,
        transport_factory: Callable[[], SmtpTransport],
        concurrency: int,
        prefetch: int,
        retry_policy: RetryPolicy,
        alerts: DeadLetterAlerts | None,
        metrics: NotifierMetrics,
        drain_timeout: float = 60.0,
    ) -> None:
        self.parameters = parameters
        self.topology = topology
        self.pipeline = pipeline
        self.router = FailureRouter(topology, retry_policy)
        self.alerts = alerts
        self.metrics = metrics
        self.prefetch = prefetch
        self.drain_timeout = drain_timeout
        self._transport_factory = transport_factory
        self._work: queue.SimpleQueue[Delivery | None] = queue.SimpleQueue()
        self._workers = [
            threading.Thread(target=self._work_loop, name=f"smtp-worker-{i}", daemon=True)
            for i in range(concurrency)
        ]
        self._stop = threading.Event()
        self._accepting = False
        self._generation = 0
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._publisher: BlockingChannel | None = None
        # Deliveries received and not yet settled, in the order they arrived.
        self._in_flight: dict[tuple[int, int], Delivery] = {}
        self._results: list[tuple[Delivery, Result]] = []
        self._results_lock = threading.Lock()
        self._results_scheduled = False
        self.connected = threading.Event()
        self.backoff = Backoff()

    # -- life -------------------------------------------------------------------------------

    def run(self) -> None:
        """Consume until :meth:`stop`; then finish the messages in hand and close cleanly."""
        for worker in self._workers:
            worker.start()
        try:
            while not self._stop.is_set():
                try:
                    self._connect_and_consume()
                except CONNECTION_ERRORS as exc:
                    self._lost(exc)
                except Exception as exc:  # a bug must not end the process silently
                    log.exception("consumer_crashed", error=repr(exc))
                    self._lost(exc)
                else:
                    continue
                delay = self.backoff.next_delay()
                log.warning("broker_reconnect_scheduled", in_seconds=round(delay, 2))
                self._stop.wait(delay)
        finally:
            for _ in self._workers:
                self._work.put(None)
            for worker in self._workers:
                worker.join(self.drain_timeout)

    def stop(self) -> None:
        """Ask :meth:`run` to stop; safe from another thread (not from a signal handler: see signals.py)."""
        self._stop.set()

    def _connect_and_consume(self) -> None:
        connection = pika.BlockingConnection(self.parameters)
        self._generation += 1
        generation = self._generation
        try:
            channel = connection.channel()
            publisher = connection.channel()
            publisher.confirm_delivery()
            self.topology.declare(channel)
            channel.basic_qos(prefetch_count=self.prefetch)
            tag = channel.basic_consume(
                self.topology.queue, on_message_callback=partial(self._on_message, generation)
            )
            self._connection, self._channel, self._publisher = connection, channel, publisher
            self._accepting = True
            self.connected.set()
            self.metrics.broker_connected.set(1)
            self.backoff.reset()
            with self._results_lock:
                leftover = bool(self._results) and not self._results_scheduled
            if leftover:  # results of the last connection's deliveries: drop them there
                self._settle_results()
            log.info("consuming", queue=self.topology.queue, prefetch=self.prefetch, workers=len(self._workers))
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.2)
            self._drain(connection, channel, tag, generation)
        finally:
            self._accepting = False
            self.connected.clear()
            self.metrics.broker_connected.set(0)
            self._connection = self._channel = self._publisher = None
            if connection.is_open:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    connection.close()

    def _drain(self, connection: BlockingConnection, channel: BlockingChannel, tag: str, generation: int) -> None:
        """Stop taking messages, let the ones in hand finish and settle, close the channels."""
        channel.basic_cancel(tag)
        self._accepting = False
        self.pipeline.writer.flush(timeout=0)
        deadline = time.monotonic() + self.drain_timeout
        while self._in_flight and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)
        if self._in_flight:
            log.warning("stopped_with_messages_in_hand", count=len(self._in_flight))
        log.info("consumer_stopped", generation=generation)
        channel.close()

    def _lost(self, exc: BaseException) -> None:
        """The connection is gone: what was in flight on it will be redelivered."""
        dropped = len(self._in_flight)
        self._in_flight.clear()
        with self._results_lock:
            # A hand-off queued on the dead connection never runs: let the next one be made.
            self._results_scheduled = False
        self.metrics.in_flight.set(0)
        log.warning("broker_connection_lost", error=broker_error(exc), unsettled=dropped)

    # -- receiving and working ----------------------------------------------------------------

    def _on_message(
        self, generation: int, _ch: BlockingChannel, method: Basic.Deliver, properties: BasicProperties, body: bytes
    ) -> None:
        assert method.delivery_tag is not None
        delivery = Delivery(
            generation=generation,
            tag=method.delivery_tag,
            exchange=method.exchange or "",
            routing_key=method.routing_key or "",
            properties=properties,
            body=body,
            redelivered=method.redelivered,
            received_at=time.monotonic(),
        )
        self._in_flight[(generation, delivery.tag)] = delivery
        self.metrics.consumed.inc()
        self.metrics.in_flight.set(len(self._in_flight))
        self._work.put(delivery)

    def _work_loop(self) -> None:
        transport = self._transport_factory()
        try:
            while (delivery := self._work.get()) is not None:
                if not self._accepting or delivery.generation != self._generation:
                    # Not started: hand it back to the broker for another consumer.
                    self._on_connection_thread(partial(self._give_back, delivery))
                    continue
                try:
                    self.pipeline.process(delivery.body, transport, partial(self._on_result, delivery))
                except Exception as exc:
                    log.exception("pipeline_failed", error=repr(exc))
                    self._on_result(delivery, Result(Outcome.RETRY, reason=f"internal error: {exc!r}"))
        finally:
            transport.close()

    def _on_result(self, delivery: Delivery, result: Result) -> None:
        """Hand a result to the connection thread; results that pile up go over in one wake-up."""
        with self._results_lock:
            self._results.append((delivery, result))
            if self._results_scheduled:
                return
            self._results_scheduled = True
        if not self._on_connection_thread(self._settle_results):
            with self._results_lock:
                self._results_scheduled = False  # the next connection picks them up

    def _on_connection_thread(self, callback: Callable[[], None]) -> bool:
        """Run `callback` on the connection thread; False if there is no connection to run it."""
        connection = self._connection
        if connection is None:
            return False  # that connection is gone; its deliveries come back on the next one
        try:
            connection.add_callback_threadsafe(callback)
        except CONNECTION_ERRORS:
            return False
        return True

    def _give_back(self, delivery: Delivery) -> None:
        """Return a delivery nobody started (stopping, or its channel is gone) to the queue.

        Explicitly: left unacked, a later `multiple` ack of a higher tag would ack it unsent.
        """
        if self._in_flight.pop((delivery.generation, delivery.tag), None) is None:
            return
        self.metrics.in_flight.set(len(self._in_flight))
        if delivery.generation == self._generation and self._channel is not None:
            self._channel.basic_nack(delivery.tag, requeue=True)

    # -- settling: the one place that acks ---------------------------------------------------

    def _settle_results(self) -> None:
        with self._results_lock:
            results, self._results = self._results, []
            self._results_scheduled = False
        ready: set[int] = set()
        for delivery, result in results:
            if self._settle(delivery, result):
                ready.add(delivery.tag)
        if ready:
            self._ack(ready)
        self.metrics.in_flight.set(len(self._in_flight))

    def _settle(self, delivery: Delivery, result: Result) -> bool:
        """Carry out a result; True if the delivery is now to be acked."""
        if (delivery.generation, delivery.tag) not in self._in_flight:
            return False
        channel, publisher = self._channel, self._publisher
        if delivery.generation != self._generation or channel is None or publisher is None:
            self._in_flight.pop((delivery.generation, delivery.tag), None)
            return False  # never ack on another channel than the delivery's
        outcome, reason, extra = result.outcome, result.reason, {}
        if outcome in (Outcome.RETRY, Outcome.DEAD):
            received = Received(delivery.body, delivery.properties, delivery.exchange, delivery.routing_key)
            route = self.router.plan(received, result)
            try:
                self.router.publish(publisher, received, route)
            except RepublishRefused as exc:
                # Reject it: the work queue's own dead-letter route keeps it, with x-death.
                log.error("republish_refused", error=str(exc), event_id=delivery.properties.message_id)
                self._in_flight.pop((delivery.generation, delivery.tag), None)
                channel.basic_nack(delivery.tag, requeue=False)
                return False
            outcome, reason = route.outcome, route.reason
            extra = {"attempts": route.attempts, **({"retry_queue": route.queue} if outcome is Outcome.RETRY else {})}
            if outcome is Outcome.DEAD and self.alerts is not None:
                self.alerts.record(reason)
        self._observe(delivery, result, outcome, reason, extra)
        return True

    def _ack(self, ready: set[int]) -> None:
        """Ack `ready` deliveries: the run of them at the head of the in-flight ones (in delivery
        order) with one `multiple` ack, any others one by one, never waiting for a slow one."""
        assert self._channel is not None
        generation = self._generation
        head: int | None = None
        for _generation, tag in self._in_flight:
            if tag not in ready:
                break
            head = tag
        if head is not None:
            self._channel.basic_ack(head, multiple=True)
        for tag in ready:
            self._in_flight.pop((generation, tag), None)
            if head is None or tag > head:
                self._channel.basic_ack(tag)

    def _observe(self, delivery: Delivery, result: Result, outcome: Outcome, reason: str | None,
                 extra: dict[str, Any]) -> None:
        m = self.metrics
        m.outcomes.labels(outcome.value).inc()
        if outcome is Outcome.SENT:
            m.sent.inc()
            m.smtp_seconds.observe(result.smtp_seconds)
            m.render_seconds.observe(result.render_seconds)
        elif outcome is Outcome.RETRY:
            m.retried.inc()
        elif outcome is Outcome.DEAD:
            m.dead_lettered.labels((reason or "unknown").split(":", 1)[0][:60]).inc()
        elif outcome is Outcome.DUPLICATE:
            m.duplicates.inc()
        elif outcome is Outcome.SUPPRESSED:
            m.suppressed.inc()
        if result.event_time is not None:
            m.lag_seconds.observe(max(0.0, (datetime.now(UTC) - result.event_time).total_seconds()))
        fields: dict[str, Any] = {
            "event_id": result.event_id or delivery.properties.message_id,
            "outcome": outcome.value,
            "recipient_domain": result.recipient_domain,
            "duration_ms": round((time.monotonic() - delivery.received_at) * 1000, 1),
            "redelivered": delivery.redelivered,
            **extra,
        }
        if reason:
            fields["reason"] = reason
        level = "warning" if outcome in (Outcome.RETRY, Outcome.DEAD) else "info"
        getattr(log, level)("event_settled", **fields)
