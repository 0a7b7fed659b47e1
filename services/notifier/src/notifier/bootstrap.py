"""The composition root: builds a notifier from settings, with collaborators tests can swap."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

import structlog

from notifier.alerts import DeadLetterAlerts
from notifier.consumer import Consumer, connection_parameters
from notifier.http import serve_probes
from notifier.ledger import Ledger, LedgerWriter
from notifier.metrics import NotifierMetrics
from notifier.mime import Sender
from notifier.pipeline import FollowerMailPipeline
from notifier.render import MailRenderer
from notifier.retry import RetryPolicy
from notifier.settings import NotifierSettings
from notifier.topology import Topology
from notifier.transport import SmtpConfig, SmtpTransport

log = structlog.get_logger("notifier")


@dataclass
class Notifier:
    """A built notifier: `run()` blocks until `stop()`; everything it opened closes after."""

    settings: NotifierSettings
    topology: Topology
    ledger: Ledger
    writer: LedgerWriter
    pipeline: FollowerMailPipeline
    consumer: Consumer
    alerts: DeadLetterAlerts
    metrics: NotifierMetrics

    http: ThreadingHTTPServer | None = None

    def run(self) -> None:
        """Serve the probes, start the ledger writer and alerts, consume until stopped."""
        self.writer.start()
        self.alerts.start()
        self.http = serve_probes(self.settings.notifier_http_bind, self.metrics.registry, self.readiness)
        try:
            self.consumer.run()
        finally:
            self.http.shutdown()
            self.http.server_close()
            self.writer.stop()
            self.alerts.stop()
            self.alerts.send_pending()
            self.ledger.dispose()

    def stop(self) -> None:
        self.consumer.stop()

    def readiness(self) -> dict[str, bool]:
        """What /readyz reports: the broker connection and the ledger database."""
        return {"broker": self.consumer.connected.is_set(), "ledger": self.ledger.ping()}

    @property
    def http_port(self) -> int | None:
        return self.http.server_address[1] if self.http is not None else None  # type: ignore[return-value]


def build_pipeline(
    settings: NotifierSettings, ledger: Ledger, on_ledger_error: Callable[[Exception], None] | None = None
) -> FollowerMailPipeline:
    """The render-and-send pipeline with its ledger writer (not started)."""
    writer = LedgerWriter(ledger, interval=settings.notifier_ledger_commit_interval, on_error=on_ledger_error)
    return FollowerMailPipeline(
        renderer=MailRenderer(settings.templates_dir),
        ledger=ledger,
        writer=writer,
        sender=Sender.parse(settings.sender),
        cooldown=settings.notifier_cooldown,
    )


def build_ledger(settings: NotifierSettings) -> Ledger:
    """The ledger, its tables created; a SQLite file's folder is made if missing."""
    url = settings.notifier_database_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///").partition("?")[0]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    ledger = Ledger(url)
    ledger.create_schema()
    return ledger


def build_notifier(
    settings: NotifierSettings,
    *,
    transport_factory: Callable[[], SmtpTransport] | None = None,
) -> Notifier:
    """Wire a notifier from `settings`. Connects to nothing until `run()`, except the ledger."""
    smtp = SmtpConfig.from_settings(settings)
    make_transport = transport_factory or (lambda: SmtpTransport(smtp))
    topology = Topology.from_settings(settings)
    metrics = NotifierMetrics()
    ledger = build_ledger(settings)
    pipeline = build_pipeline(
        settings, ledger, on_ledger_error=lambda exc: log.error("ledger_write_failed", error=str(exc))
    )
    alerts = DeadLetterAlerts(
        admins=settings.admins,
        sender=pipeline.sender,
        transport_factory=make_transport,
        interval=settings.notifier_alert_interval,
        queue_name=topology.dead_letter_queue,
    )
    consumer = Consumer(
        parameters=connection_parameters(settings.amqp_url, settings.amqp_heartbeat, "notifier"),
        topology=topology,
        pipeline=pipeline,
        transport_factory=make_transport,
        concurrency=settings.mail_max_connections,
        prefetch=settings.prefetch,
        retry_policy=RetryPolicy(topology, settings.notifier_max_attempts),
        alerts=alerts,
        metrics=metrics,
        drain_timeout=settings.mail_timeout * 2,
    )
    return Notifier(settings, topology, ledger, pipeline.writer, pipeline, consumer, alerts, metrics)
