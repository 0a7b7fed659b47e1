"""Replaying past events from the event log on the broker (a RabbitMQ stream).

The stream keeps every event social published, by age and size. A replay reads it from a time
on, through the same pipeline as the live consumer: the ledger folds events already mailed
(unless `resend`), and a failure goes to the retry or dead-letter queue like any other. The
broker keeps no offset for AMQP consumers, so a replay keeps its own checkpoint in the ledger
database: interrupted, it resumes where it stopped (`--resume RUN`).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pika
import sqlalchemy as sa
import structlog
from microblog_contracts import EventDecodeError, UserFollowed, decode_event
from pika.spec import Basic, BasicProperties

from notifier.ledger import DeliveryKey, Ledger, metadata
from notifier.pipeline import FOLLOWER_EMAIL, FollowerMailPipeline, Outcome, Result
from notifier.routing import FailureRouter, Received, RepublishRefused
from notifier.topology import Topology
from notifier.transport import SmtpTransport

log = structlog.get_logger("notifier.replay")

checkpoints = sa.Table(
    "replay_checkpoints",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("options", sa.Text, nullable=False),
    sa.Column("next_offset", sa.BigInteger, nullable=True),
    sa.Column("summary", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
)


@dataclass(frozen=True)
class ReplayOptions:
    since: datetime
    until: datetime | None = None
    event_type: str | None = None
    dry_run: bool = False
    resend: bool = False


@dataclass
class ReplaySummary:
    read: int = 0
    mailed: int = 0
    folded: int = 0
    suppressed: int = 0
    failed: int = 0
    skipped: int = 0
    would_mail: int = 0

    def line(self) -> str:
        parts = [f"read {self.read}", f"mailed {self.mailed}", f"folded {self.folded}",
                 f"suppressed {self.suppressed}", f"failed {self.failed}", f"skipped {self.skipped}"]
        if self.would_mail:
            parts.append(f"would mail {self.would_mail}")
        return ", ".join(parts)


class Checkpoints:
    """Replay runs and how far each got, in the ledger database."""

    def __init__(self, ledger: Ledger) -> None:
        self.engine = ledger.engine
        checkpoints.create(self.engine, checkfirst=True)

    def start(self, options: ReplayOptions) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        document = {**asdict(options), "since": options.since.isoformat(),
                    "until": options.until.isoformat() if options.until else None}
        with self.engine.begin() as conn:
            conn.execute(checkpoints.insert().values(run_id=run_id, options=json.dumps(document),
                                                     updated_at=datetime.now(UTC).replace(tzinfo=None)))
        return run_id

    def load(self, run_id: str) -> tuple[ReplayOptions, int | None, bool]:
        """The options of a run, where it stopped, and whether it finished."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(checkpoints).where(checkpoints.c.run_id == run_id)).first()
        if row is None:
            raise KeyError(run_id)
        raw = json.loads(row.options)
        options = ReplayOptions(
            since=datetime.fromisoformat(raw["since"]),
            until=datetime.fromisoformat(raw["until"]) if raw["until"] else None,
            event_type=raw["event_type"], dry_run=raw["dry_run"], resend=raw["resend"],
        )
        return options, row.next_offset, row.finished_at is not None

    def save(self, run_id: str, next_offset: int | None, summary: ReplaySummary, finished: bool = False) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.begin() as conn:
            conn.execute(checkpoints.update().where(checkpoints.c.run_id == run_id).values(
                next_offset=next_offset, summary=json.dumps(asdict(summary)), updated_at=now,
                finished_at=now if finished else None))


@dataclass
class _Progress:
    """Offsets handed out and finished; the checkpoint is the first offset not yet finished."""

    started: list[int] = field(default_factory=list)
    finished: set[int] = field(default_factory=set)

    def next_offset(self, fallback: int | None) -> int | None:
        while self.started and self.started[0] in self.finished:
            self.finished.discard(self.started.pop(0))
        if self.started:
            return self.started[0]
        return fallback


class StreamReplay:
    """Reads the stream from a time (or a checkpoint) and feeds each event to the pipeline."""

    def __init__(
        self,
        *,
        parameters: pika.URLParameters,
        topology: Topology,
        pipeline: FollowerMailPipeline,
        router: FailureRouter,
        transport_factory: Callable[[], SmtpTransport],
        concurrency: int = 4,
        idle_timeout: float = 2.0,
        on_progress: Callable[[ReplaySummary], None] | None = None,
    ) -> None:
        self.parameters = parameters
        self.topology = topology
        self.pipeline = pipeline
        self.router = router
        self.transport_factory = transport_factory
        self.concurrency = concurrency
        self.idle_timeout = idle_timeout
        self.on_progress = on_progress
        self._stop = threading.Event()
        self._local = threading.local()

    def stop(self) -> None:
        self._stop.set()

    def run(self, options: ReplayOptions, *, start_offset: int | None = None,
            checkpoint: Callable[[int | None, ReplaySummary], None] | None = None) -> tuple[ReplaySummary, int | None]:
        """Replay until caught up (or `until`), or :meth:`stop`. Returns the summary and the
        offset to resume from (None when the replay reached its end)."""
        summary = ReplaySummary()
        progress = _Progress()
        began = datetime.now(UTC)
        until = min(options.until, began) if options.until else began
        last_seen: int | None = start_offset
        reached_end = False
        connection = pika.BlockingConnection(self.parameters)
        executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="replay-smtp")
        transports: list[SmtpTransport] = []
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            publisher = connection.channel()
            publisher.confirm_delivery()
            channel.basic_qos(prefetch_count=max(50, 4 * self.concurrency))
            in_flight = 0
            last_message = time.monotonic()
            last_checkpoint = time.monotonic()

            def finish(tag: int, offset: int, received: Received, result: Result) -> None:
                nonlocal in_flight
                in_flight -= 1
                self._count(summary, result)
                if result.outcome in (Outcome.RETRY, Outcome.DEAD):
                    route = self.router.plan(received, result)
                    try:
                        self.router.publish(publisher, received, route)
                    except RepublishRefused as exc:
                        # Stop here: the checkpoint stays before this event, so a resume retries it.
                        log.error("replay_stopped", event_id=result.event_id, error=str(exc))
                        self.stop()
                        return
                    log.warning("replay_failed", event_id=result.event_id, outcome=route.outcome.value,
                                reason=route.reason, queue=route.queue)
                channel.basic_ack(tag)
                progress.finished.add(offset)

            def on_message(_ch: object, method: Basic.Deliver, properties: BasicProperties, body: bytes) -> None:
                nonlocal in_flight, last_message, reached_end, last_seen
                last_message = time.monotonic()
                raw_offset = (properties.headers or {}).get("x-stream-offset", -1)
                offset = raw_offset if isinstance(raw_offset, int) else -1
                tag = method.delivery_tag
                assert tag is not None
                if reached_end or self._stop.is_set():
                    return  # not acked: nothing more is asked of this consumer
                if start_offset is not None and offset < start_offset:
                    channel.basic_ack(tag)
                    return
                verdict = self._select(body, options, until)
                if verdict == "end":
                    reached_end = True
                    channel.basic_ack(tag)
                    return
                summary.read += 1
                last_seen = offset + 1
                if verdict == "skip":
                    summary.skipped += 1
                    channel.basic_ack(tag)
                    return
                if options.dry_run:
                    self._dry_run(body, options, summary)
                    channel.basic_ack(tag)
                    return
                in_flight += 1
                progress.started.append(offset)
                received = Received(body, properties, method.exchange or "", method.routing_key or "")
                executor.submit(self._process, received, options,
                                lambda result: connection.add_callback_threadsafe(
                                    lambda: finish(tag, offset, received, result)),
                                transports)

            where = start_offset if start_offset is not None else options.since
            tag = channel.basic_consume(self.topology.stream, on_message,
                                        arguments={"x-stream-offset": where})
            while True:
                connection.process_data_events(time_limit=0.1)
                idle = time.monotonic() - last_message > self.idle_timeout
                if in_flight == 0 and (reached_end or idle or self._stop.is_set()):
                    break
                if checkpoint is not None and time.monotonic() - last_checkpoint > 1.0:
                    checkpoint(progress.next_offset(last_seen), summary)
                    last_checkpoint = time.monotonic()
                if self.on_progress is not None:
                    self.on_progress(summary)
            self.pipeline.writer.flush(timeout=30)
            # A stream refuses nacks, and pika nacks the deliveries still in its buffer when it
            # cancels: let those arrive first (left unacked, which a stream does not mind).
            settle_until = time.monotonic() + 5
            while time.monotonic() - last_message < 0.3 and time.monotonic() < settle_until:
                connection.process_data_events(time_limit=0.05)
            with contextlib.suppress(pika.exceptions.AMQPError):
                channel.basic_cancel(tag)
        finally:
            executor.shutdown(wait=True)
            for transport in transports:
                transport.close()
            if connection.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError):
                    connection.close()
        stopped_early = self._stop.is_set() and not reached_end
        resume_at = progress.next_offset(last_seen) if stopped_early else None
        if checkpoint is not None:
            checkpoint(resume_at, summary)
        return summary, resume_at

    def _select(self, body: bytes, options: ReplayOptions, until: datetime) -> str:
        """"take", "skip" (outside the filters) or "end" (past `until`: stop reading)."""
        try:
            event = decode_event(body)
        except EventDecodeError:
            return "take"  # let the pipeline dead-letter it with its reason
        if event.time > until:
            return "end"
        if event.time < options.since or (options.event_type and event.type != options.event_type):
            return "skip"
        return "take"

    def _dry_run(self, body: bytes, options: ReplayOptions, summary: ReplaySummary) -> None:
        try:
            event = decode_event(body)
        except EventDecodeError:
            summary.failed += 1
            return
        if not isinstance(event, UserFollowed):
            summary.skipped += 1
            return
        recipient = str(event.data.followed.email).lower()
        if not options.resend and self.pipeline.ledger.is_delivered(DeliveryKey(event.id, recipient, FOLLOWER_EMAIL)):
            summary.folded += 1
        else:
            summary.would_mail += 1

    def _process(self, received: Received, options: ReplayOptions,
                 done: Callable[[Result], None], transports: list[SmtpTransport]) -> None:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = self.transport_factory()
            transports.append(transport)
        try:
            self.pipeline.process(received.body, transport, done, resend=options.resend)
        except Exception as exc:
            log.exception("replay_pipeline_failed", error=repr(exc))
            done(Result(Outcome.RETRY, reason=f"internal error: {exc!r}"))

    @staticmethod
    def _count(summary: ReplaySummary, result: Result) -> None:
        if result.outcome is Outcome.SENT:
            summary.mailed += 1
        elif result.outcome is Outcome.DUPLICATE:
            summary.folded += 1
        elif result.outcome is Outcome.SUPPRESSED:
            summary.suppressed += 1
        else:
            summary.failed += 1
