"""Prometheus metrics of one notifier process, in a registry of its own (tests build many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class NotifierMetrics:
    """Counters for every outcome and the latencies operators watch."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.consumed = Counter("notifier_events_consumed", "Messages taken from the work queue.", registry=r)
        self.outcomes = Counter(
            "notifier_events_processed", "Messages settled, by outcome.", ["outcome"], registry=r
        )
        self.sent = Counter("notifier_mails_sent", "Mails the SMTP server accepted.", registry=r)
        self.retried = Counter("notifier_mails_retried", "Messages scheduled for a later attempt.", registry=r)
        self.dead_lettered = Counter(
            "notifier_mails_dead_lettered", "Messages moved to the dead-letter queue.", ["reason"], registry=r
        )
        self.duplicates = Counter(
            "notifier_mails_folded_duplicates", "Events already mailed, folded by the ledger.", registry=r
        )
        self.suppressed = Counter(
            "notifier_mails_suppressed_cooldown", "Re-follows inside the cooldown, not mailed.", registry=r
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
