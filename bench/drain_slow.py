"""3. Notifier drain into a slow SMTP server (200 ms a message, like a remote one): ours with its
default settings (the SMTP concurrency found by feedback, up to MAIL_MAX_CONNECTIONS) against the
best of a few fixed concurrencies (MAIL_ADAPTIVE_CONNECTIONS=false) and the tutorial's
one-at-a-time notifier."""

from __future__ import annotations

import time
from statistics import median
from typing import Any

from bench.config import Config
from bench.drain_fast import setbacks_figure
from bench.drains import naive_drain, notifier_drain
from bench.figures import Figure, Section, Target
from bench.sinks import slow_sink
from bench.stats import rolling_rate
from bench.workdir import scratch

TARGET_PER_S = 100.0
#: The default settings against the best fixed concurrency: the issue's target.
TARGET_OF_BEST = 0.8


def measure(config: Config) -> Section:
    started = time.monotonic()
    section = Section(
        "drain_slow", "Notifier drain, slow SMTP",
        {"sink": f"bench/anchors/slow_smtp_sink.py --delay-ms {config.smtp_delay_ms}",
         "events": config.slow_events, "ours": "default settings (MAIL_MAX_CONNECTIONS unset)",
         "fixed_mail_max_connections": list(config.slow_sweep), "naive_events": config.naive_slow_events},
    )
    series: dict[str, Any] = {}
    for run in range(config.runs):
        with scratch("drain-slow") as workdir, slow_sink(config.smtp_delay_ms, workdir) as sink:
            ours = notifier_drain(sink, workdir, events=config.slow_events, connections=None, label="slow")
            fixed = {c: notifier_drain(sink, workdir, events=config.slow_events, connections=c,
                                       label=f"slow-fixed-{c}", MAIL_ADAPTIVE_CONNECTIONS="false")
                     for c in config.slow_sweep}
            naive = naive_drain(sink, workdir, events=config.naive_slow_events, label="naive-slow")
        section.runs.append({"ours": ours.summary(), "fixed": {str(c): d.summary() for c, d in fixed.items()},
                             "naive_per_s": naive.rate})
        if run == 0:
            series = {"ours": rolling_rate(ours.sent, 1.0), "naive": rolling_rate(naive.sent, 2.0),
                      "fixed": {str(c): rolling_rate(d.sent, 1.0) for c, d in fixed.items()}}
    best = max(config.slow_sweep,
               key=lambda c: median([r["fixed"][str(c)]["rate_per_s"] for r in section.runs]))
    section.params["best_fixed_mail_max_connections"] = best
    section.figures = figures(config, section.runs, best)
    section.series = series
    troubled = [r["ours"]["retry_reasons"] for r in section.runs if r["ours"]["retried_or_dead"]]
    if troubled:
        section.notes.append(f"The default settings' slow drain retried messages ({troubled[0]}).")
    section.notes.append(
        f"Ours with default settings finds its SMTP concurrency (from 4 sessions, doubling while work waits and "
        f"more sessions send faster, up to MAIL_MAX_CONNECTIONS=64); the anchor is the best of fixed "
        f"MAIL_MAX_CONNECTIONS {', '.join(map(str, config.slow_sweep))} (MAIL_ADAPTIVE_CONNECTIONS=false) "
        f"in the same run: {best}.")
    section.notes.append(f"The naive notifier drains {config.naive_slow_events} events, ours {config.slow_events:,}: "
                         "rates are rates.")
    section.seconds = time.monotonic() - started
    return section


def figures(config: Config, runs: list[dict[str, Any]], best: int) -> list[Figure]:
    ours = [r["ours"]["rate_per_s"] for r in runs]

    def fixed(c: int) -> list[float]:
        return [r["fixed"][str(c)]["rate_per_s"] for r in runs]

    out = [
        Figure.of("drain_slow", "slow-SMTP drain, default settings (vs naive)", "mails/s", ours,
                  [r["naive_per_s"] for r in runs], "naive notifier", Target("at_least", TARGET_PER_S, "≥ 100/s")),
        Figure.of("drain_slow", f"slow-SMTP drain, default settings vs the best fixed MAIL_MAX_CONNECTIONS ({best})",
                  "mails/s", ours, fixed(best), f"{best} fixed sessions",
                  Target("ratio_min", TARGET_OF_BEST, f"≥ {TARGET_OF_BEST}x best fixed")),
    ]
    out += [Figure.of("drain_slow", f"slow-SMTP drain, fixed MAIL_MAX_CONNECTIONS={c} vs its ceiling", "mails/s",
                      fixed(c), c * 1000 / config.smtp_delay_ms, f"{c} x 1/{config.smtp_delay_ms} ms")
            for c in config.slow_sweep]
    out.append(setbacks_figure("drain_slow", [r["ours"]["retried_or_dead"]
                                              + sum(f["retried_or_dead"] for f in r["fixed"].values()) for r in runs]))
    return out
