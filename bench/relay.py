"""5. The relay: 20,000 pending outbox events published by `social relay` with confirms, against
pika publishing one message at a time waiting for each confirm, and pika consuming with acks."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

from bench import services
from bench.amqp import connection, declare_notifier_topology, properties
from bench.config import Config
from bench.events import EncodedEvent, encoded_events
from bench.figures import Figure, Section, Target
from bench.infra import BenchError, rabbit_vhost, wait_for
from bench.sampling import Sample, Sampler, metric_reader, rss_reader
from bench.seeding import insert_outbox
from bench.stats import active_span, drain_rate, halves_peak, rolling_rate
from bench.workdir import scratch

PUBLISHED = "relay_events_published_total"
ANCHOR_QUEUE = "bench.anchor.quorum"
TARGET_PER_S = 5000.0


def pika_confirm_rate(amqp_url: str, events: list[EncodedEvent]) -> float:
    """BlockingChannel, persistent messages to a quorum queue, each publish waiting for its confirm."""
    with connection(amqp_url) as conn:
        channel = conn.channel()
        channel.queue_declare(ANCHOR_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        channel.confirm_delivery()
        started = time.perf_counter()
        for event in events:
            channel.basic_publish("", ANCHOR_QUEUE, event.body, properties(event.event_id, amqp_url), mandatory=True)
        return len(events) / (time.perf_counter() - started)


def pika_consume_rate(amqp_url: str, queue: str, count: int) -> float:
    """BlockingChannel consuming `count` messages with a basic_ack each, prefetch 100."""
    with connection(amqp_url) as conn:
        channel = conn.channel()
        channel.basic_qos(prefetch_count=100)
        started = time.perf_counter()
        for taken, (method, _props, _body) in enumerate(channel.consume(queue, inactivity_timeout=10), start=1):
            if method is None or method.delivery_tag is None:
                raise BenchError(f"the consume anchor got {taken - 1} of {count} messages")
            channel.basic_ack(method.delivery_tag)
            if taken >= count:
                break
        seconds = time.perf_counter() - started
        channel.cancel()
        return count / seconds


def relay_publish(config: Config, events: list[EncodedEvent]) -> tuple[float, list[Sample], list[Sample]]:
    """Our relay on a fresh SQLite outbox holding `events`; returns its rate, counter and RSS series."""
    with scratch("relay") as workdir, rabbit_vhost("relay") as amqp_url, ExitStack() as stack:
        database_url = f"sqlite:///{workdir / 'social.db'}"
        services.upgrade_database(database_url, workdir)
        declare_notifier_topology(amqp_url)  # what the events route to in production: work queue + event log
        proc, metrics = services.relay(database_url, amqp_url, workdir)  # ready: the publisher is connected
        stack.callback(proc.stop)
        published = Sampler(metric_reader(metrics, PUBLISHED)).start()
        rss = Sampler(rss_reader(proc.pid)).start()
        # The backlog lands in one transaction while the relay idles and the sampler already reads
        # zero: a small (smoke) backlog is published within one sampling interval, and the rate
        # needs a sample from before it started.
        wait_for(lambda: published.latest() == 0, timeout=30, what="the relay's first metrics sample")
        insert_outbox(database_url, events)

        def finished() -> bool:
            if not proc.running:
                raise BenchError(f"social relay exited:\n{proc.tail()}")
            return (published.latest() or 0) >= len(events)

        wait_for(finished, timeout=120 + len(events) / 200, what=f"{len(events)} events published", interval=0.1)
        samples, rss_samples = published.stop(), rss.stop()
    return drain_rate(samples, len(events)), samples, rss_samples


def one_run(config: Config) -> tuple[dict[str, Any], list[Sample], list[Sample]]:
    events = encoded_events(config.relay_events, prefix="r")
    rate, samples, rss = relay_publish(config, events)
    with rabbit_vhost("pika") as amqp_url:
        confirm = pika_confirm_rate(amqp_url, events[: config.pika_confirm_messages])
        extra = config.pika_consume_messages - config.pika_confirm_messages
        if extra > 0:
            # Confirmed, so the backlog is whole before the consume anchor starts: in one full
            # bench run, unconfirmed publishes here once never all showed up in the queue.
            with connection(amqp_url) as conn:
                channel = conn.channel()
                channel.confirm_delivery()
                for event in events[:extra]:
                    channel.basic_publish("", ANCHOR_QUEUE, event.body, properties(event.event_id, amqp_url))
        wait_for(lambda: _depth(amqp_url) >= config.pika_consume_messages, timeout=30,
                 what=f"{config.pika_consume_messages} messages for the consume anchor")
        consume = pika_consume_rate(amqp_url, ANCHOR_QUEUE, config.pika_consume_messages)
    start, end = active_span(samples, len(events))
    first, second = halves_peak(rss, start, end)
    summary = {"relay_per_s": rate, "pika_confirm_each_per_s": confirm, "pika_consume_ack_per_s": consume,
               "peak_mib": max(v for _, v in rss), "first_half_peak_mib": first, "second_half_peak_mib": second}
    return summary, samples, rss


def _depth(amqp_url: str) -> int:
    with connection(amqp_url) as conn:
        return int(conn.channel().queue_declare(ANCHOR_QUEUE, passive=True).method.message_count)


def measure(config: Config) -> Section:
    started = time.monotonic()
    section = Section(
        "relay", "Relay: outbox to broker",
        {"events": config.relay_events,
         "database": "SQLite, rows inserted into outbox_events in one transaction while the relay runs",
         "routes": "social.events -> notifier.user-followed (quorum) + social.events.log (stream)",
         "pika_confirm_messages": config.pika_confirm_messages, "pika_consume_messages": config.pika_consume_messages},
    )
    for run in range(config.runs):
        summary, samples, rss = one_run(config)
        section.runs.append(summary)
        if run == 0:
            section.series = {"published": rolling_rate(samples),
                              "rss_mib": [(round(t, 2), round(v, 2)) for t, v in rss]}
    relay = [r["relay_per_s"] for r in section.runs]
    section.figures = [
        Figure.of("relay", "relay publish rate (vs pika, confirm each)", "events/s", relay,
                  [r["pika_confirm_each_per_s"] for r in section.runs], "pika BlockingChannel, confirm each",
                  Target("at_least", TARGET_PER_S, "≥ 5,000/s")),
        Figure.of("relay", "relay publish rate vs broker consume+ack", "events/s", relay,
                  [r["pika_consume_ack_per_s"] for r in section.runs], "pika consume, ack each, prefetch 100"),
    ]
    section.seconds = time.monotonic() - started
    return section
