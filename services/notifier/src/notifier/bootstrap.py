"""The composition root: builds a notifier (or a replay) from settings, with collaborators tests
can swap (a transport, a ledger store, a clock, the mail kinds)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

import structlog
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.probes import Check, serve_probes, stop_probes

from notifier.admission import Admission
from notifier.alerts import DeadLetterAlerts
from notifier.announcements.intake import BULK_EVENT_TYPES, Intake
from notifier.announcements.pacing import SharedRate, UrgentWork
from notifier.announcements.sender import BulkSender, BulkSettings
from notifier.broker import brokers_for
from notifier.concurrency import Concurrency
from notifier.consent import Limits
from notifier.consumer import Consumer
from notifier.errors import LedgerUnavailable
from notifier.failures import FailurePolicy
from notifier.gathering.outbox import ActivityTeller
from notifier.gathering.policy import GatherPolicy
from notifier.gathering.scheduler import Scheduler
from notifier.kinds import KindRegistry, Policy, discover
from notifier.ledger import Ledger, LedgerStore
from notifier.ledger.store import SqlStore
from notifier.metrics import NotifierMetrics
from notifier.mime import Sender
from notifier.outgoing import Composer, DkimSigner, Senders
from notifier.pipeline import STATE_EVENT_TYPES, Pipeline
from notifier.render import Renderer
from notifier.reporting import Reporter
from notifier.settings import NotifierSettings
from notifier.topology import Topology
from notifier.transport import SmtpConfig, SmtpTransport, Transport

log = structlog.get_logger("notifier")

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Notifier:
    """A built notifier: `run()` blocks until `stop()`; everything it opened closes after."""

    settings: NotifierSettings
    topology: Topology
    ledger: Ledger
    consumer: Consumer
    alerts: DeadLetterAlerts
    metrics: NotifierMetrics
    scheduler: Scheduler
    bulk: BulkSender | None = None
    _probes: ThreadingHTTPServer | None = field(default=None, repr=False)
    #: How long to wait between looks for a ledger database that is down at start.
    ledger_backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, cap=30.0), repr=False)
    _stopped: threading.Event = field(default_factory=threading.Event, repr=False)

    def run(self) -> None:
        """Serve the probes, wait for the ledger database, start the ledger writer, alerts and
        scheduler, consume until stopped."""
        self._probes = serve_probes(self.settings.notifier_http_bind, self.metrics.registry, self.readiness)
        try:
            if self._wait_for_ledger():
                self.ledger.start()
                self.alerts.start()
                self.scheduler.start()
                if self.bulk is not None:
                    self.bulk.start()
                self.consumer.run()
        finally:
            stop_probes(self._probes)
            if self.bulk is not None:
                self.bulk.stop()
            self.scheduler.stop()
            self.ledger.stop()
            self.alerts.stop()
            self.ledger.dispose()

    def stop(self) -> None:
        self._stopped.set()
        self.consumer.stop()

    def _wait_for_ledger(self) -> bool:
        """Create the ledger's tables, waiting with a capped backoff while its database is down (a
        notifier started before its database, or with it, must not exit); False if stopped first.
        Meanwhile /readyz answers 503, naming the ledger."""
        while not self._stopped.is_set():
            try:
                self.ledger.create_schema()
            except LedgerUnavailable as exc:
                delay = self.ledger_backoff.next_delay()
                log.warning("waiting_for_ledger_database", error=str(exc), retry_in_seconds=round(delay, 2),
                            note="nothing is consumed until NOTIFIER_DATABASE_URL answers")
                self._stopped.wait(delay)
            else:
                return True
        return False

    @property
    def stopping(self) -> bool:
        return self.consumer.stopping

    def readiness(self) -> dict[str, Check]:
        """What /readyz reports: the broker connection and the ledger database."""
        return {"broker": Check(self.consumer.connected.is_set(), "not connected to RabbitMQ"),
                "ledger": Check(self.ledger.ping(), "the ledger database does not answer")}


def build_ledger(settings: NotifierSettings, *, store: LedgerStore | None = None, create: bool = True) -> Ledger:
    """The ledger on NOTIFIER_DATABASE_URL (or `store`), every table created unless `create` is
    False (then nothing connects yet: `notifier run` creates them once the database answers)."""
    ledger = Ledger(
        store or SqlStore(settings.notifier_database_url),
        commit_interval=settings.notifier_ledger_commit_interval,
        on_error=lambda exc: log.error("ledger_write_failed", error=str(exc)),
    )
    if create:
        ledger.create_schema()
    return ledger


def build_topology(settings: NotifierSettings, kinds: KindRegistry | None = None) -> Topology:
    """The queues and bindings `settings` ask for: the work queue bound to the event types of every
    mail kind and the state events (profiles) the notifier keeps, the bulk queue to announcements'."""
    return Topology.from_settings(settings, (kinds or discover()).event_types + STATE_EVENT_TYPES, BULK_EVENT_TYPES)


def build_admission(settings: NotifierSettings) -> Admission:
    """Whose events the notifier takes (NOTIFIER_TRUSTED_PUBLISHERS and its own AMQP user): the one
    check of every message, as it arrives, for the live consumer and the stream replay alike."""
    return Admission(own_user=settings.amqp_user, trusted=settings.trusted_publishers)


def build_policy(settings: NotifierSettings, topology: Topology) -> FailurePolicy:
    return FailurePolicy(topology, settings.notifier_max_attempts)


def build_limits(settings: NotifierSettings) -> Limits:
    return Limits(cooldown=settings.notifier_cooldown, daily_cap=settings.notifier_daily_cap)


def build_gather_policy(settings: NotifierSettings) -> GatherPolicy:
    return GatherPolicy(grace=settings.notifier_follow_grace, window=settings.notifier_batch_window,
                        default_mode=settings.follow_notice_default, lease=settings.notifier_scheduler_lease)


def build_composer(settings: NotifierSettings) -> Composer:
    """Who each policy of mail is from, and the DKIM signer when the deployment signs."""
    senders = Senders(*(Sender.parse(settings.sender_for(p)) for p in ("transactional", "notification", "bulk")))
    signer = None
    if settings.mail_dkim_key_file and settings.mail_dkim_selector and settings.mail_dkim_domain:
        signer = DkimSigner.from_file(settings.mail_dkim_key_file, settings.mail_dkim_selector,
                                      settings.mail_dkim_domain)
    return Composer(senders, signer)


def build_concurrency(settings: NotifierSettings) -> Concurrency:
    """How many SMTP sessions the work queue's mail goes out on: found by feedback up to
    MAIL_MAX_CONNECTIONS, or always that many (MAIL_ADAPTIVE_CONNECTIONS=false)."""
    return Concurrency(settings.mail_max_connections, adaptive=settings.mail_adaptive_connections)


def build_pipeline(settings: NotifierSettings, ledger: Ledger, *, kinds: KindRegistry | None = None,
                   clock: Clock = _utcnow, renderer: Renderer | None = None, intake: Intake | None = None,
                   concurrency: Concurrency | None = None) -> Pipeline:
    """Read, check, render, send and record, for every mail kind; `intake` keeps announcements'
    events (without it they are dead-lettered as unhandled). Bulk senders give way while the work
    queue's mail fills `concurrency`'s sessions."""
    sessions = concurrency or build_concurrency(settings)
    kinds = kinds or discover()
    return Pipeline(
        kinds=kinds,
        renderer=renderer or Renderer(kinds.names, settings.templates_dir, postal_address=settings.mail_postal_address),
        ledger=ledger,
        composer=build_composer(settings),
        limits=build_limits(settings),
        gather=build_gather_policy(settings),
        intake=intake,
        urgent=UrgentWork(lambda: sessions.limit),
        clock=clock,
    )


def build_scheduler(settings: NotifierSettings, ledger: Ledger, pipeline: Pipeline, *,
                    transport_factory: Callable[[], Transport], tell: bool = True, clock: Clock = _utcnow,
                    on_sent: Callable[[str], None] | None = None,
                    teller: ActivityTeller | None = None) -> Scheduler:
    """The scheduler of waiting follow notices, sharing the pipeline's renderer and sender, and
    `teller` (else one of its own); `tell=False` leaves the activity it has to tell social in its
    outbox (tests without a broker)."""
    gathering = ledger.gathering()
    return Scheduler(
        gathering=gathering,
        renderer=pipeline.renderer,
        composer=pipeline.composer,
        transport_factory=transport_factory,
        policy=build_gather_policy(settings),
        limits=build_limits(settings),
        capped_kinds=tuple(k.name for k in pipeline.kinds.kinds if k.policy is Policy.NOTIFICATION),
        teller=(teller or build_teller(settings, ledger)) if tell else None,
        owner=_owner(),
        clock=clock,
        poll=settings.notifier_scheduler_poll,
        on_sent=on_sent,
    )


def build_teller(settings: NotifierSettings, ledger: Ledger) -> ActivityTeller:
    """What tells social of the scheduler's and bulk senders' mail, on a connection of its own."""
    return ActivityTeller(ledger.gathering(), brokers_for(settings.amqp_url, settings.amqp_heartbeat,
                                                          "notifier-activity"))


def build_bulk_sender(settings: NotifierSettings, ledger: Ledger, pipeline: Pipeline, *,
                      transport_factory: Callable[[], Transport], teller: ActivityTeller | None,
                      clock: Clock = _utcnow, on_outcome: Callable[[str, str | None], None] | None = None,
                      owner: str | None = None) -> BulkSender:
    """The bulk senders of announcements, sharing the pipeline's renderer and composer and
    giving way to its urgent mail; MAIL_RATE_LIMIT shared through the ledger's database."""
    store = ledger.announcements()
    return BulkSender(
        store=store,
        renderer=pipeline.renderer,
        composer=pipeline.composer,
        transport_factory=transport_factory,
        settings=BulkSettings(owner=owner or _owner(), concurrency=settings.notifier_bulk_concurrency,
                              lease=settings.notifier_scheduler_lease),
        rate=SharedRate(store, settings.mail_rate_limit) if settings.mail_rate_limit > 0 else None,
        urgent=pipeline.urgent,
        teller=teller,
        clock=clock,
        on_outcome=on_outcome,
    )


def _owner() -> str:
    """This process, as leases name it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def smtp_transports(settings: NotifierSettings) -> Callable[[], Transport]:
    """A maker of SMTP sessions to MAIL_SERVER, one per worker."""
    config = SmtpConfig.from_settings(settings)
    return lambda: SmtpTransport(config)


def build_notifier(
    settings: NotifierSettings,
    *,
    transport_factory: Callable[[], Transport] | None = None,
    store: LedgerStore | None = None,
    kinds: KindRegistry | None = None,
    clock: Clock = _utcnow,
) -> Notifier:
    """Wire a notifier from `settings`. Connects to nothing until `run()`."""
    kinds = kinds or discover()
    make_transport = transport_factory or smtp_transports(settings)
    topology = build_topology(settings, kinds)
    metrics = NotifierMetrics()
    metrics.prime(kinds.names)
    ledger = build_ledger(settings, store=store, create=False)
    intake = Intake(ledger.announcements(), clock=clock)
    concurrency = build_concurrency(settings)
    metrics.smtp_sessions_limit.set_function(lambda: concurrency.limit)
    pipeline = build_pipeline(settings, ledger, kinds=kinds, clock=clock, intake=intake, concurrency=concurrency)
    teller = build_teller(settings, ledger)
    scheduler = build_scheduler(settings, ledger, pipeline, transport_factory=make_transport, clock=clock,
                                on_sent=lambda kind: metrics.sent.labels(kind).inc(), teller=teller)
    pipeline.on_held = scheduler.wake
    bulk = None
    if settings.notifier_bulk_concurrency:
        bulk = build_bulk_sender(settings, ledger, pipeline, transport_factory=make_transport, teller=teller,
                                 clock=clock, on_outcome=metrics.bulk_outcome)
        intake.on_change = bulk.wake
    alerts = DeadLetterAlerts(
        admins=settings.admins,
        sender=Sender.parse(settings.sender),
        transport_factory=make_transport,
        interval=settings.notifier_alert_interval,
        queue_name=topology.dead_letter_queue,
    )
    consumer = Consumer(
        brokers=brokers_for(settings.amqp_url, settings.amqp_heartbeat, "notifier"),
        topology=topology,
        pipeline=pipeline,
        admission=build_admission(settings),
        transport_factory=make_transport,
        concurrency=concurrency,
        prefetch=settings.prefetch,
        bulk_prefetch=settings.notifier_bulk_prefetch,
        policy=build_policy(settings, topology),
        report=Reporter(metrics, alerts).settled,
        metrics=metrics,
        drain_timeout=settings.mail_timeout * 2,
    )
    return Notifier(settings, topology, ledger, consumer, alerts, metrics, scheduler, bulk)


