"""The RabbitMQ side of the notifier: consume, hand work to the SMTP workers, settle.

One thread owns the connection: it consumes, services heartbeats, and is the only place that
acks, re-publishes or dead-letters (through its :class:`~notifier.settlement.Settlement`).
Worker threads, one SMTP session each, run the pipeline and hand results back with
`add_callback_threadsafe`, so a slow SMTP server never starves the heartbeat. How many of them
send at once is found by feedback (:mod:`notifier.concurrency`): the ones above the limit wait with
their sessions closed, and a mail the server pushed back on for the crowd (a 421) goes back on the
work queue at once rather than to a delay queue. A message from a
publisher the notifier does not trust, or bigger than any event, is dead-lettered as it arrives
and never reaches a worker (:mod:`notifier.admission`). A delivery is only
ever settled on the channel it arrived on: after a reconnect the broker redelivers what was in
flight, and the ledger folds the copies of mails that had gone out. A reconnect goes to the next
broker of `AMQP_URL` first (another node of the cluster, when the one it was on died); consumers on
a quorum queue carry on when its leader moves to another node.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import structlog
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.brokers import broker_error
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.spec import Basic, BasicProperties

from notifier.admission import Admission
from notifier.broker import CONNECTION_ERRORS, Brokers, close_quietly, connect
from notifier.concurrency import Concurrency, WatchedTransport
from notifier.errors import BrokerUnavailable
from notifier.failures import Failure, FailurePolicy
from notifier.metrics import NotifierMetrics
from notifier.pipeline import Outcome, Pipeline, Result
from notifier.settlement import Delivery, Report, Settlement
from notifier.topology import Topology
from notifier.transport import Transport

log = structlog.get_logger("notifier.consumer")

#: Errors that end a connection's life: reconnect.
LOST: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, BrokerUnavailable)
#: A session without work this long is closed (servers keep few idle clients; the limit shrinks).
IDLE_SESSION_SECONDS = 5.0
#: Times a mail pushed back for the crowd is tried again at once before the retry policy has it.
CROWDED_RETRIES = 3


@dataclass(frozen=True, slots=True)
class _Job:
    """A delivery on the work queue, and how often the server pushed back on it for the crowd."""

    delivery: Delivery
    crowded: int = 0


class Consumer:
    """Consumes the work queue until asked to stop; reconnects when the broker goes away."""

    def __init__(
        self,
        *,
        brokers: Brokers,
        topology: Topology,
        pipeline: Pipeline,
        admission: Admission,
        transport_factory: Callable[[], Transport],
        concurrency: Concurrency,
        prefetch: int,
        policy: FailurePolicy,
        bulk_prefetch: int = 2,
        report: Report,
        metrics: NotifierMetrics,
        drain_timeout: float = 60.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.brokers = brokers
        self.topology = topology
        self.pipeline = pipeline
        self.admission = admission
        self.policy = policy
        self.report = report
        self.metrics = metrics
        self.prefetch = prefetch
        self.bulk_prefetch = bulk_prefetch
        self.drain_timeout = drain_timeout
        self.backoff = backoff or Backoff()
        self.concurrency = concurrency
        self._transport_factory = transport_factory
        self._work: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers = [
            threading.Thread(target=self._work_loop, args=(i,), name=f"smtp-worker-{i}", daemon=True)
            for i in range(concurrency.ceiling)
        ]
        self._stop = threading.Event()
        self._closing = threading.Event()  # the workers are to finish: none waits for a turn
        self._accepting = False
        self._generation = 0
        self._connection: BlockingConnection | None = None
        self._broker: str | None = None  # host:port of the broker connected to, for the logs
        self._settlement: Settlement | None = None
        self._results: list[tuple[Delivery, Result]] = []
        self._results_lock = threading.Lock()
        self._results_scheduled = False
        self.connected = threading.Event()

    # -- life -------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def generation(self) -> int:
        """How many connections this consumer has made (tests watch it for a reconnect)."""
        return self._generation

    def run(self) -> None:
        """Consume until :meth:`stop`; then finish the messages in hand and close cleanly."""
        for worker in self._workers:
            worker.start()
        try:
            while not self._stop.is_set():
                try:
                    self._connect_and_consume()
                except LOST as exc:
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
            self._closing.set()
            self.concurrency.wake_all()
            for _ in self._workers:
                self._work.put(None)
            for worker in self._workers:
                worker.join(self.drain_timeout)

    def stop(self) -> None:
        """Ask :meth:`run` to stop; safe from another thread (not from a signal handler)."""
        self._stop.set()

    def _connect_and_consume(self) -> None:
        connection = connect(self.brokers)
        self._broker = self.brokers.connected_name
        self._generation += 1
        generation = self._generation
        try:
            channel = connection.channel()
            publisher = connection.channel()
            publisher.confirm_delivery()
            self.topology.declare(channel)
            channel.basic_qos(prefetch_count=self.prefetch)
            on_message = partial(self._on_message, generation)
            tags = [channel.basic_consume(self.topology.queue, on_message_callback=on_message)]
            if self.topology.bulk_queue is not None:  # announcements: a few at a time, beside the work queue
                channel.basic_qos(prefetch_count=self.bulk_prefetch)
                tags.append(channel.basic_consume(self.topology.bulk_queue, on_message_callback=on_message))
            self._connection = connection
            self._settlement = Settlement(channel, publisher, self.policy, self.report,
                                          as_user=self.admission.own_user)
            self._accepting = True
            self.connected.set()
            self.metrics.broker_connected.set(1)
            self.backoff.reset()
            with self._results_lock:
                leftover = bool(self._results) and not self._results_scheduled
            if leftover:  # results of the last connection's deliveries: drop them here
                self._settle_results()
            log.info("consuming", queue=self.topology.queue, bulk_queue=self.topology.bulk_queue,
                     prefetch=self.prefetch, workers=len(self._workers), smtp_sessions=self.concurrency.limit,
                     broker=self._broker)
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.2)
            self._drain(connection, channel, tags, generation)
        finally:
            self._accepting = False
            self.connected.clear()
            self.metrics.broker_connected.set(0)
            self._connection = None
            self._settlement = None
            close_quietly(connection)

    def _drain(self, connection: BlockingConnection, channel: BlockingChannel, tags: list[str],
               generation: int) -> None:
        """Stop taking messages, let the ones in hand finish and settle, close the channels."""
        for tag in tags:
            channel.basic_cancel(tag)
        self._accepting = False
        self.pipeline.ledger.flush(timeout=0)
        deadline = time.monotonic() + self.drain_timeout
        while self._settlement and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)
        if self._settlement:
            log.warning("stopped_with_messages_in_hand", count=len(self._settlement))
        log.info("consumer_stopped", generation=generation)
        channel.close()

    def _lost(self, exc: BaseException) -> None:
        """The connection is gone: what was in flight on it will be redelivered."""
        unsettled = len(self._settlement) if self._settlement else 0
        self._settlement = None
        with self._results_lock:
            # A hand-off queued on the dead connection never runs: let the next one be made.
            self._results_scheduled = False
        self.metrics.in_flight.set(0)
        log.warning("broker_connection_lost", error=broker_error(exc), unsettled=unsettled, broker=self._broker)
        self._broker = None

    # -- receiving and working ----------------------------------------------------------------

    def _on_message(
        self, generation: int, _ch: BlockingChannel, method: Basic.Deliver, properties: BasicProperties, body: bytes
    ) -> None:
        assert method.delivery_tag is not None
        assert self._settlement is not None
        delivery = Delivery(
            generation=generation, tag=method.delivery_tag, exchange=method.exchange or "",
            routing_key=method.routing_key or "", properties=properties, body=body,
            redelivered=method.redelivered, received_at=time.monotonic(),
        )
        self._settlement.track(delivery)
        self.metrics.consumed.inc()
        refusal = self.admission.refusal(properties, body)
        if refusal is not None:  # an untrusted publisher's, or too big: dead-lettered here, never read
            self._settlement.settle([(delivery, Result(Outcome.DEAD, failure=refusal))])
        else:
            self._work.put(_Job(delivery))
        self.metrics.in_flight.set(len(self._settlement))

    def _work_loop(self, worker: int) -> None:
        """Worker `worker`'s life: while within the SMTP concurrency limit, take work and send it;
        above it, or idle, close the session (so the server holds no more sessions than we use)."""
        transport = WatchedTransport(self._transport_factory(), self.concurrency, self._backlog)
        try:
            while True:
                if not self.concurrency.may_send(worker):
                    self._rest(transport)
                    self.concurrency.wait_turn(worker, self._closing)
                try:
                    job = self._work.get(timeout=IDLE_SESSION_SECONDS)
                except queue.Empty:
                    self._rest(transport)
                    self.concurrency.idle(worker)
                    continue
                if job is None:
                    return
                delivery = job.delivery
                if not self._accepting or delivery.generation != self._generation:
                    # Not started: hand it back to the broker for another consumer.
                    self._on_connection_thread(partial(self._give_back, delivery))
                    continue
                self._work_on(job, transport)
        finally:
            self._rest(transport)

    def _rest(self, transport: WatchedTransport) -> None:
        """A worker that stops sending for a while gives back its SMTP session and its ledger
        connection: the server and the database see only the workers at work."""
        transport.close()
        self.pipeline.ledger.release_reader()

    def _backlog(self) -> bool:
        """Whether work waits for a session: the SMTP concurrency may grow."""
        return not self._work.empty()

    def _work_on(self, job: _Job, transport: WatchedTransport) -> None:
        """Run the pipeline on one delivery; a retry the crowd caused goes back on the work queue."""
        delivery = job.delivery
        pushed_back: list[Result] = []
        working = True

        def settled(result: Result) -> None:
            # A retry decided while the pipeline runs is the send's own (one from the ledger's thread
            # comes later); if the server pushed back for the crowd, the limit has shrunk: try again.
            if working and result.outcome is Outcome.RETRY and transport.crowded:
                pushed_back.append(result)
            else:
                self._on_result(delivery, result)

        transport.crowded = False
        try:
            self.pipeline.process(delivery.body, transport, settled)
        except Exception as exc:
            log.exception("pipeline_failed", error=repr(exc))
            self._on_result(delivery, Result(Outcome.RETRY, failure=Failure.internal(exc)))
        finally:
            working = False
        if not pushed_back:
            return
        result = pushed_back[0]
        if job.crowded >= CROWDED_RETRIES:
            self._on_result(delivery, result)  # pushed back again and again: the retry policy's to decide
            return
        log.info("smtp_pushed_back", event_id=result.event_id, smtp_sessions=self.concurrency.limit,
                 detail=result.failure.detail if result.failure else None, tried_again=job.crowded + 1)
        self._work.put(_Job(delivery, job.crowded + 1))

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
        settlement = self._settlement
        if settlement is not None and delivery.generation == self._generation:
            settlement.give_back(delivery)
            self.metrics.in_flight.set(len(settlement))

    def _settle_results(self) -> None:
        with self._results_lock:
            results, self._results = self._results, []
            self._results_scheduled = False
        settlement = self._settlement
        if settlement is None:
            return
        # Never ack on another channel than the delivery's: older generations' results are dropped.
        settlement.settle((d, r) for d, r in results if d.generation == self._generation)
        self.metrics.in_flight.set(len(settlement))
