"""3. Notifier drain into a slow SMTP server (200 ms a message, like a remote one): ours with many
connections against the tutorial's one-at-a-time notifier."""

from __future__ import annotations

import time
from typing import Any

from bench.config import Config
from bench.drain_fast import setbacks_figure
from bench.drains import naive_drain, notifier_drain
from bench.figures import Figure, Section, Target
from bench.sinks import slow_sink
from bench.stats import rolling_rate
from bench.workdir import scratch

TARGET_PER_S = 100.0


def measure(config: Config) -> Section:
    started = time.monotonic()
    section = Section(
        "drain_slow", "Notifier drain, slow SMTP",
        {"sink": f"bench/anchors/slow_smtp_sink.py --delay-ms {config.smtp_delay_ms}",
         "events": config.slow_events, "mail_max_connections": config.slow_connections,
         "naive_events": config.naive_slow_events},
    )
    series: dict[str, Any] = {}
    for run in range(config.runs):
        with scratch("drain-slow") as workdir, slow_sink(config.smtp_delay_ms, workdir) as sink:
            ours = notifier_drain(sink, workdir, events=config.slow_events, connections=config.slow_connections,
                                  label="slow")
            naive = naive_drain(sink, workdir, events=config.naive_slow_events, label="naive-slow")
        section.runs.append({"ours": ours.summary(), "naive_per_s": naive.rate})
        if run == 0:
            series = {"ours": rolling_rate(ours.sent, 1.0), "naive": rolling_rate(naive.sent, 2.0)}
    ours_rates = [r["ours"]["rate_per_s"] for r in section.runs]
    naive_rates = [r["naive_per_s"] for r in section.runs]
    ceiling = config.slow_connections * 1000 / config.smtp_delay_ms
    section.figures = [
        Figure.of("drain_slow", f"slow-SMTP drain, MAIL_MAX_CONNECTIONS={config.slow_connections} (vs naive)",
                  "mails/s", ours_rates, naive_rates, "naive notifier", Target("at_least", TARGET_PER_S, "≥ 100/s")),
        Figure.of("drain_slow", "slow-SMTP drain vs its ceiling (connections ÷ delay)", "mails/s", ours_rates,
                  ceiling, f"{config.slow_connections} x 1/{config.smtp_delay_ms} ms"),
        setbacks_figure("drain_slow", [r["ours"]["retried_or_dead"] for r in section.runs]),
    ]
    section.series = series
    troubled = [r["ours"]["retry_reasons"] for r in section.runs if r["ours"]["retried_or_dead"]]
    if troubled:
        section.notes.append(f"The slow drains retried messages ({troubled[0]}).")
    section.notes.append(f"The naive notifier drains {config.naive_slow_events} events, ours {config.slow_events:,}: "
                         "rates are rates.")
    section.seconds = time.monotonic() - started
    return section
