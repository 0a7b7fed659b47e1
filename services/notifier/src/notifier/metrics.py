"""Prometheus metrics of one notifier process, in a registry of its own (tests build many).

Every count about mail carries the mail `kind`; failures and skips carry their `reason`, which is
the failure's stable kind code (`smtp_unavailable`, `unreadable.not_json`) or the skip reason
(`cooldown`): the same words the dead-letter headers, the alerts and `notifier dlq list` use.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: The `kind` label of a message no mail kind could be read from (unreadable, unknown type).
NO_KIND = "none"


class NotifierMetrics:
    """Counters for every outcome and the latencies operators watch."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.consumed = Counter("notifier_events_consumed", "Messages taken from the work queue.", registry=r)
        self.outcomes = Counter(
            "notifier_events_processed", "Messages settled, by outcome and mail kind.", ["outcome", "kind"], registry=r
        )
        self.sent = Counter("notifier_mails_sent", "Mails the SMTP server accepted.", ["kind"], registry=r)
        self.retried = Counter(
            "notifier_mails_retried", "Messages scheduled for a later attempt.", ["kind", "reason"], registry=r
        )
        self.dead_lettered = Counter(
            "notifier_mails_dead_lettered", "Messages moved to the dead-letter queue.", ["kind", "reason"], registry=r
        )
        self.duplicates = Counter(
            "notifier_mails_folded_duplicates", "Mails already sent, folded by the ledger.", ["kind"], registry=r
        )
        self.skipped = Counter(
            "notifier_mails_skipped", "Mails deliberately not sent, by reason.", ["kind", "reason"], registry=r
        )
        self.failed = Counter(
            "notifier_mails_failed", "Bulk mails that could not be sent and will not be retried, by reason.",
            ["kind", "reason"], registry=r
        )
        self.smtp_seconds = Histogram(
            "notifier_smtp_send_seconds", "Time to hand one mail to the SMTP server.",
            buckets=_LATENCY_BUCKETS, registry=r
        )
        self.render_seconds = Histogram(
            "notifier_render_seconds", "Time to render and build one mail.", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.lag_seconds = Histogram(
            "notifier_event_lag_seconds", "From the event's time to its outcome.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600), registry=r,
        )
        self.broker_connected = Gauge("notifier_broker_connected", "1 while connected to RabbitMQ.", registry=r)
        self.in_flight = Gauge("notifier_messages_in_flight", "Messages received and not yet settled.", registry=r)
        self.smtp_sessions_limit = Gauge(
            "notifier_smtp_sessions_limit", "SMTP sessions the work queue's mail may use now (found by feedback, "
            "at most MAIL_MAX_CONNECTIONS).", registry=r)

    def bulk_outcome(self, state: str, reason: str | None) -> None:
        """Count what became of one announcement's mail (a bulk sender's `on_outcome`)."""
        if state == "sent":
            self.sent.labels("announcement").inc()
        elif state == "skipped":
            self.skipped.labels("announcement", reason or "none").inc()
        else:
            self.failed.labels("announcement", reason or "none").inc()

    def prime(self, kinds: Iterable[str]) -> None:
        """Show every kind's mail counters at 0 from the start: a rate over a series that appears
        only with its first mail misses that mail, and dashboards show "no data" instead of 0."""
        for kind in kinds:
            self.sent.labels(kind)
            self.duplicates.labels(kind)
