"""The relay process: one owner that starts, runs and stops everything the relay holds.

The relay is social's bridge to the broker both ways: it publishes the outbox, and its inbox
consumes what the notifier tells back (:mod:`social.inbox`), on a thread of its own.
"""

from __future__ import annotations

import threading

import structlog
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.databases import database_error
from microblog_plumbing.probes import Check, serve_probes, stop_probes
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social.inbox.consumer import InboxConsumer
from social.mail.schema import mail_history
from social.outbox.schema import check_outbox
from social.relay.batches import BatchRelay, BatchReport
from social.relay.metrics import RelayMetrics
from social.relay.pruning import OutboxPruner
from social.relay.publisher import Publisher
from social.relay.wakeup import Wakeup

log = structlog.get_logger("social.relay")

#: How long `run()` waits for the broker before it says, once, that it is not there yet.
_FIRST_CONNECT_WAIT = 5.0


class RelayService:
    """A built relay: `run()` publishes until `stop()`, then closes what it opened.

    It alone starts and stops its database engine, publisher, inbox, wake-up, probes and metrics,
    and prunes the outbox as it goes (:mod:`social.relay.pruning`); build one with
    :func:`social.relay.bootstrap.build_relay`.
    """

    def __init__(self, *, engine: Engine, publisher: Publisher, inbox: InboxConsumer, batches: BatchRelay,
                 wakeup: Wakeup, metrics: RelayMetrics, failure_backoff: Backoff, http_bind: str | None,
                 pruner: OutboxPruner) -> None:
        self._engine = engine
        self._publisher = publisher
        self._inbox = inbox
        self._batches = batches
        self._wakeup = wakeup
        self._metrics = metrics
        self._failure_backoff = failure_backoff
        self._http_bind = http_bind
        self._pruner = pruner
        self._stopping = threading.Event()

    def check_outbox(self) -> None:
        """Raise :class:`social.outbox.schema.OutboxMissing` unless the outbox table, and the
        mail history the inbox writes, are there."""
        check_outbox(self._engine, mail_history.name)

    def readiness(self) -> dict[str, Check]:
        """What /readyz reports: the publishing connection and the inbox, and why one is down."""
        broker = (Check(True) if self._publisher.ready
                  else Check(False, self._publisher.last_error or "broker not connected"))
        inbox = Check(True) if self._inbox.ready else Check(False, self._inbox.last_error or "inbox not consuming")
        return {"broker": broker, "inbox": inbox}

    def run(self) -> None:
        """Connect, serve the probes, relay until :meth:`stop`; then close all of it."""
        self._publisher.start()
        inbox = threading.Thread(target=self._inbox.run, name="inbox", daemon=True)
        inbox.start()
        probes = None
        try:
            if self._http_bind is not None:
                probes = serve_probes(self._http_bind, self._metrics.registry, self.readiness)
            if not self._publisher.wait_ready(_FIRST_CONNECT_WAIT) and not self._stopping.is_set():
                log.warning("broker_not_reachable_yet", error=self._publisher.last_error,
                            note="follows keep working; events wait in the outbox")
            log.info("relay_started", http=self._http_bind)
            self._relay_until_stopped()
        finally:
            self._inbox.stop()
            inbox.join(10)
            self._publisher.stop()
            self._wakeup.close()
            if probes is not None:
                stop_probes(probes)
            self._engine.dispose()

    def stop(self) -> None:
        """Make :meth:`run` return: every wait ends now; a batch being confirmed is marked first."""
        self._stopping.set()
        self._inbox.stop()
        self._publisher.interrupt()
        self._wakeup.interrupt()

    def relay_batch(self) -> BatchReport:
        """One pass: publish up to a batch of pending events and count what happened."""
        report = self._batches.relay_batch()
        if report.claimed:
            self._metrics.observe_batch(report.published, report.failed, report.seconds)
        return report

    def _relay_until_stopped(self) -> None:
        """Publish while there is a backlog, else wait for a wake-up; back off while failing.
        Prune when due at every turn, the broker down or not: pruning needs only the database."""
        while not self._stopping.is_set():
            self._pruner.prune_if_due()
            if not self._publisher.ready:
                self._publisher.wait_ready(1.0)
                continue
            try:
                report = self.relay_batch()
            except SQLAlchemyError as exc:
                delay = self._failure_backoff.next_delay()
                log.error("outbox_unavailable", error=database_error(exc), retry_in_seconds=round(delay, 2))
                self._stopping.wait(delay)
                continue
            if report.failed:
                # The broker refused or lost some: keep them pending, and do not spin on them.
                delay = self._failure_backoff.next_delay()
                log.warning("publish_incomplete", published=report.published, failed=report.failed,
                            retry_in_seconds=round(delay, 2))
                self._stopping.wait(delay)
                continue
            self._failure_backoff.reset()
            if not report.full:
                self._wakeup.wait()
