"""Prometheus metrics of the relay: what it published, how fast, the backlog behind it, and what its
inbox took in from the notifier."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social.outbox.schema import outbox_events as outbox


class RelayMetrics:
    """Counters updated by the relay loop, and the outbox backlog read at each scrape."""

    def __init__(self, engine: Engine, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.published = Counter(
            "relay_events_published", "Outbox events the broker confirmed.", registry=self.registry
        )
        self.failed = Counter(
            "relay_publish_failures", "Publishes not confirmed, by reason.", ["reason"], registry=self.registry
        )
        self.batch_seconds = Histogram(
            "relay_publish_batch_seconds", "Time from publishing a batch to its last confirm.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.inbox_messages = Counter(
            "relay_inbox_messages", "Messages from the notifier the inbox settled, by type and outcome.",
            ["type", "outcome"], registry=self.registry,
        )
        self.registry.register(_BacklogCollector(engine))

    def observe_batch(self, published: int, failures: dict[str, int], seconds: float) -> None:
        self.published.inc(published)
        for reason, count in failures.items():
            self.failed.labels(reason).inc(count)
        self.batch_seconds.observe(seconds)


class _BacklogCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = GaugeMetricFamily("relay_outbox_backlog", "Outbox events not yet published.")
        oldest = GaugeMetricFamily(
            "relay_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event (0 if none)."
        )
        try:
            with self.engine.connect() as conn:
                count, first = conn.execute(
                    sa.select(sa.func.count(), sa.func.min(outbox.c.occurred_at)).where(
                        outbox.c.published_at.is_(None)
                    )
                ).one()
        except SQLAlchemyError:
            return
        backlog.add_metric([], float(count))
        if first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            oldest.add_metric([], max(0.0, (datetime.now(UTC) - first).total_seconds()))
        else:
            oldest.add_metric([], 0.0)
        yield backlog
        yield oldest
