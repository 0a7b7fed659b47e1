"""Replaying past events from the event log on the broker (a RabbitMQ stream).

The stream keeps every event social published, by age and size. A replay reads it from a time
on, through the same pipeline as the live consumer: the ledger folds events already mailed
(unless `resend`), and a failure goes to the retry or dead-letter queue, decided by the same
failure policy; an event in the window from a publisher the notifier does not trust is
dead-lettered unread, as the live consumer does (:mod:`notifier.admission`). The broker keeps no
offset for AMQP consumers, so a replay keeps its own checkpoint in the ledger database:
interrupted, it resumes where it stopped (`--resume RUN`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from microblog_contracts import EventDecodeError, decode_event
from pika.spec import Basic, BasicProperties

from notifier import activity
from notifier.admission import Admission
from notifier.broker import CONNECTION_ERRORS, Brokers, Received, copy_message, open_channels, translate
from notifier.errors import RepublishRefused
from notifier.failures import Failure, FailurePolicy
from notifier.pipeline import Outcome, Pipeline, Result
from notifier.topology import Topology
from notifier.transport import Transport

log = structlog.get_logger("notifier.replay")

Checkpoint = Callable[[int | None, "ReplaySummary"], None]


@dataclass(frozen=True)
class ReplayOptions:
    since: datetime
    until: datetime | None = None
    event_type: str | None = None
    dry_run: bool = False
    resend: bool = False

    def to_document(self) -> dict[str, Any]:
        until = self.until.isoformat() if self.until else None
        return {**asdict(self), "since": self.since.isoformat(), "until": until}

    @classmethod
    def from_document(cls, raw: dict[str, Any]) -> ReplayOptions:
        return cls(since=datetime.fromisoformat(raw["since"]),
                   until=datetime.fromisoformat(raw["until"]) if raw["until"] else None,
                   event_type=raw["event_type"], dry_run=raw["dry_run"], resend=raw["resend"])


@dataclass
class ReplaySummary:
    read: int = 0
    mailed: int = 0
    folded: int = 0
    skipped: int = 0  # deliberately not mailed (the cooldown, ...)
    failed: int = 0
    filtered: int = 0  # outside --type
    held: int = 0  # follow notices handed to the scheduler (a grace, a batch, a digest)
    would_mail: int = 0

    def count(self, result: Result, *, dry_run: bool = False) -> None:
        if result.outcome is Outcome.SENT:
            if dry_run:
                self.would_mail += 1
            else:
                self.mailed += 1
        elif result.outcome is Outcome.DUPLICATE:
            self.folded += 1
        elif result.outcome is Outcome.SKIPPED:
            self.skipped += 1
        elif result.outcome is Outcome.HELD:
            self.held += 1
        elif result.outcome is Outcome.NOTED:
            pass
        else:
            self.failed += 1

    def line(self) -> str:
        parts = [f"read {self.read}", f"mailed {self.mailed}", f"folded {self.folded}",
                 f"skipped {self.skipped}", f"failed {self.failed}", f"filtered out {self.filtered}"]
        if self.held:
            parts.append(f"held for later {self.held}")
        if self.would_mail:
            parts.append(f"would mail {self.would_mail}")
        return ", ".join(parts)


@dataclass
class _Progress:
    """Offsets handed out and finished; the checkpoint is the first offset not yet finished."""

    started: list[int] = field(default_factory=list)
    finished: set[int] = field(default_factory=set)
    last_seen: int | None = None

    def next_offset(self) -> int | None:
        while self.started and self.started[0] in self.finished:
            self.finished.discard(self.started.pop(0))
        return self.started[0] if self.started else self.last_seen


class StreamReplay:
    """Reads the stream from a time (or a checkpoint) and feeds each event to the pipeline.

    One run at a time; its state lives on the object while :meth:`run` runs.
    """

    def __init__(
        self,
        *,
        brokers: Brokers,
        topology: Topology,
        pipeline: Pipeline,
        policy: FailurePolicy,
        admission: Admission,
        transport_factory: Callable[[], Transport],
        concurrency: int = 4,
        idle_timeout: float = 2.0,
        on_progress: Callable[[ReplaySummary], None] | None = None,
    ) -> None:
        self.brokers = brokers
        self.topology = topology
        self.pipeline = pipeline
        self.policy = policy
        self.admission = admission
        self.transport_factory = transport_factory
        self.concurrency = concurrency
        self.idle_timeout = idle_timeout
        self.on_progress = on_progress
        self._stop = threading.Event()
        self._local = threading.local()
        self._transports: list[Transport] = []
        self._transports_lock = threading.Lock()

    def stop(self) -> None:
        """Stop taking events; the ones in hand finish, and the checkpoint says where to resume."""
        self._stop.set()

    # -- a run, step by step ---------------------------------------------------------------------

    def run(self, options: ReplayOptions, *, start_offset: int | None = None,
            checkpoint: Checkpoint | None = None) -> tuple[ReplaySummary, int | None]:
        """Replay until caught up (or `until`), or :meth:`stop`. Returns the summary and the offset
        to resume from (None when the replay reached its end). Raises BrokerUnavailable, also when
        the connection is lost on the way (the checkpoints saved say where to resume)."""
        self._begin(options, start_offset)
        executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="replay-smtp")
        self._executor = executor
        try:
            with open_channels(self.brokers) as channels:
                self._channels = channels
                self.topology.declare(channels.channel)
                channels.channel.basic_qos(prefetch_count=max(50, 4 * self.concurrency))
                where = start_offset if start_offset is not None else options.since
                tag = channels.channel.basic_consume(self.topology.stream, self._on_message,
                                                     arguments={"x-stream-offset": where})
                self._pump(checkpoint)
                self.pipeline.ledger.flush(timeout=30)
                self._let_buffered_arrive()
                with contextlib.suppress(*CONNECTION_ERRORS):
                    channels.channel.basic_cancel(tag)
        except CONNECTION_ERRORS as exc:  # its node died: the last checkpoint says where to resume
            raise translate(exc) from None
        finally:
            executor.shutdown(wait=True)
            self._close_transports()
        resume_at = self._progress.next_offset() if self._stop.is_set() and not self._reached_end else None
        if checkpoint is not None:
            checkpoint(resume_at, self._summary)
        return self._summary, resume_at

    def _begin(self, options: ReplayOptions, start_offset: int | None) -> None:
        self._options = options
        self._start_offset = start_offset
        self._until = min(options.until, datetime.now(UTC)) if options.until else datetime.now(UTC)
        self._summary = ReplaySummary()
        self._progress = _Progress(last_seen=start_offset)
        self._in_flight = 0
        self._reached_end = False
        self._last_message = time.monotonic()

    def _pump(self, checkpoint: Checkpoint | None) -> None:
        """Serve the connection until every event read is finished and the stream is done."""
        last_checkpoint = time.monotonic()
        while True:
            self._channels.connection.process_data_events(time_limit=0.1)
            idle = time.monotonic() - self._last_message > self.idle_timeout
            if self._in_flight == 0 and (self._reached_end or idle or self._stop.is_set()):
                return
            if checkpoint is not None and time.monotonic() - last_checkpoint > 1.0:
                checkpoint(self._progress.next_offset(), self._summary)
                last_checkpoint = time.monotonic()
            if self.on_progress is not None:
                self.on_progress(self._summary)

    def _let_buffered_arrive(self) -> None:
        # A stream refuses nacks, and pika nacks the deliveries still in its buffer when it
        # cancels: let those arrive first (left unacked, which a stream does not mind).
        settle_until = time.monotonic() + 5
        while time.monotonic() - self._last_message < 0.3 and time.monotonic() < settle_until:
            self._channels.connection.process_data_events(time_limit=0.05)

    # -- each event -------------------------------------------------------------------------------

    def _on_message(self, _ch: object, method: Basic.Deliver, properties: BasicProperties, body: bytes) -> None:
        self._last_message = time.monotonic()
        tag = method.delivery_tag
        assert tag is not None
        if self._reached_end or self._stop.is_set():
            return  # not acked: nothing more is asked of this consumer
        raw_offset = (properties.headers or {}).get("x-stream-offset", -1)
        offset = raw_offset if isinstance(raw_offset, int) else -1
        if self._start_offset is not None and offset < self._start_offset:
            self._ack(tag)  # the stream starts at the chunk holding the offset: skip up to it
            return
        verdict = self._select(body)
        if verdict == "end":
            self._reached_end = True
            self._ack(tag)
            return
        self._summary.read += 1
        self._progress.last_seen = offset + 1
        if verdict == "filtered":
            self._summary.filtered += 1
            self._ack(tag)
            return
        refusal = self.admission.refusal(properties, body)
        if self._options.dry_run:
            preview = Result(Outcome.DEAD, failure=refusal) if refusal else self.pipeline.preview(
                body, resend=self._options.resend)
            self._summary.count(preview, dry_run=True)
            self._ack(tag)
        else:
            received = Received(body, properties, method.exchange or "", method.routing_key or "")
            if refusal is not None:  # dead-lettered as the live consumer does; the pipeline never sees it
                self._in_flight += 1
                self._progress.started.append(offset)
                self._finish(tag, offset, received, Result(Outcome.DEAD, failure=refusal))
            else:
                self._start(tag, offset, received)

    def _select(self, body: bytes) -> str:
        """"take", "filtered" (outside the options) or "end" (past `until`: stop reading)."""
        try:
            event = decode_event(body)
        except EventDecodeError:
            return "take"  # let the pipeline dead-letter it with its reason
        if event.time > self._until:
            return "end"
        if event.time < self._options.since or (self._options.event_type and event.type != self._options.event_type):
            return "filtered"
        return "take"

    def _start(self, tag: int, offset: int, received: Received) -> None:
        self._in_flight += 1
        self._progress.started.append(offset)
        connection = self._channels.connection

        def done(result: Result) -> None:  # on a worker thread: hand over to the connection's
            connection.add_callback_threadsafe(lambda: self._finish(tag, offset, received, result))

        self._executor.submit(self._process, received, done)

    def _process(self, received: Received, done: Callable[[Result], None]) -> None:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = self.transport_factory()
            with self._transports_lock:
                self._transports.append(transport)
        try:
            self.pipeline.process(received.body, transport, done, resend=self._options.resend)
        except Exception as exc:
            log.exception("replay_pipeline_failed", error=repr(exc))
            done(Result(Outcome.RETRY, failure=Failure.internal(exc)))

    def _finish(self, tag: int, offset: int, received: Received, result: Result) -> None:
        """On the connection thread: settle a failure as the consumer would, then ack."""
        self._in_flight -= 1
        self._summary.count(result)
        if result.outcome in (Outcome.RETRY, Outcome.DEAD) and not self._settle_failure(received, result):
            return
        activity.publish(self._channels.publisher, activity.activity_events([result]))
        self._ack(tag)
        self._progress.finished.add(offset)

    def _settle_failure(self, received: Received, result: Result) -> bool:
        failure = result.failure or Failure("internal_error", "a failure without a reason", transient=True)
        disposition = self.policy.decide(received.headers, failure, exchange=received.exchange,
                                         routing_key=received.routing_key, mail_kind=result.mail_kind)
        try:
            copy_message(self._channels.publisher, received, disposition.queue, disposition.headers,
                         as_user=self.admission.own_user)
        except RepublishRefused as exc:
            # Stop here: the checkpoint stays before this event, so a resume retries it.
            log.error("replay_stopped", event_id=result.event_id, error=str(exc))
            self.stop()
            return False
        log.warning("replay_failed", event_id=result.event_id, outcome=disposition.action.value,
                    failure=failure.kind, reason=disposition.reason, queue=disposition.queue)
        return True

    def _ack(self, tag: int) -> None:
        self._channels.channel.basic_ack(tag)

    def _close_transports(self) -> None:
        with self._transports_lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()


