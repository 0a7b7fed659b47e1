"""What an operator sees of each settled message: one log line with its event id, and metrics.

Logs carry the recipient's domain, never the address. Failures are named by their stable kind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from notifier.alerts import DeadLetterAlerts
from notifier.failures import Action, Disposition
from notifier.metrics import NO_KIND, NotifierMetrics
from notifier.pipeline import Outcome, Result

log = structlog.get_logger("notifier.consumer")


class Reporter:
    """Turns each settled message into its log line, its metrics and, if dead-lettered, an alert count."""

    def __init__(self, metrics: NotifierMetrics, alerts: DeadLetterAlerts | None = None) -> None:
        self.metrics = metrics
        self.alerts = alerts
        #: Each metric's child per label values, looked up once: `labels()` checks and locks on
        #: every call, and this runs for every message.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def _child(self, metric: Any, *values: str) -> Any:
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def settled(self, result: Result, disposition: Disposition | None, *, message_id: str | None,
                redelivered: bool, duration_ms: float) -> None:
        m = self.metrics
        kind = result.mail_kind or NO_KIND
        outcome = result.outcome
        if disposition is not None:  # a failure: where it went decides what it was
            outcome = Outcome.RETRY if disposition.action is Action.RETRY else Outcome.DEAD
        self._child(m.outcomes, outcome.value, kind).inc()
        if outcome is Outcome.SENT:
            self._child(m.sent, kind).inc()
            m.smtp_seconds.observe(result.smtp_seconds)
            m.render_seconds.observe(result.render_seconds)
        elif outcome is Outcome.DUPLICATE:
            self._child(m.duplicates, kind).inc()
        elif outcome is Outcome.SKIPPED:
            self._child(m.skipped, kind, result.skip.value if result.skip else "unknown").inc()
        elif disposition is not None:
            counter = m.retried if outcome is Outcome.RETRY else m.dead_lettered
            counter.labels(kind, disposition.failure.kind).inc()
            if outcome is Outcome.DEAD and self.alerts is not None:
                self.alerts.record(disposition.failure.kind)
        if result.event_time is not None:
            m.lag_seconds.observe(max(0.0, (datetime.now(UTC) - result.event_time).total_seconds()))
        fields: dict[str, Any] = {
            "event_id": result.event_id or message_id,
            "outcome": outcome.value,
            "mail_kind": result.mail_kind,
            "recipient_domain": result.recipient_domain,
            "duration_ms": round(duration_ms, 1),
            "redelivered": redelivered,
        }
        fields = {name: value for name, value in fields.items() if value is not None}
        if result.skip is not None:
            fields["skip"] = result.skip.value
        if disposition is not None:
            fields |= {"failure": disposition.failure.kind, "reason": disposition.reason,
                       "attempts": disposition.attempts}
            if disposition.action is Action.RETRY:
                fields["retry_queue"] = disposition.queue
            log.warning("event_settled", **fields)
        else:
            log.info("event_settled", **fields)
