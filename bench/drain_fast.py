"""2. Notifier drain into a fast SMTP server (Postfix's smtp-sink): 20,000 queued events, against
the raw smtplib limit and the tutorial's one-at-a-time notifier, for a few MAIL_MAX_CONNECTIONS."""

from __future__ import annotations

import os
import time
from typing import Any

from bench.config import Config
from bench.drains import Drain, naive_drain, notifier_drain
from bench.figures import Figure, Section, Target
from bench.sinks import fast_sink
from bench.smtp_limit import one_connection_rates
from bench.stats import median, rolling_rate
from bench.workdir import scratch


def one_run(config: Config) -> tuple[dict[str, Any], dict[int, Drain], Drain]:
    with scratch("drain-fast") as workdir, fast_sink(config.fast_sink, workdir) as sink:
        raw = one_connection_rates(sink, config.raw_smtp_messages)
        ours = {c: notifier_drain(sink, workdir, events=config.drain_events, connections=c, label=f"fast{c}")
                for c in config.drain_connections}
        naive = naive_drain(sink, workdir, events=config.naive_events)
    summary = {"raw_smtplib_per_s": raw["two_cpus"], "raw_smtplib_one_cpu_per_s": raw["one_cpu"],
               "raw_smtplib_unpinned_per_s": raw["unpinned"],
               "raw_smtplib_cpu_ms_per_mail": raw["unpinned_cpu_ms_per_mail"],
               "smtp_source_per_s": raw["smtp_source"],
               "naive_per_s": naive.rate,
               "ours": {str(c): d.summary() for c, d in ours.items()}}
    return summary, ours, naive


def measure(config: Config) -> Section:
    """Every MAIL_MAX_CONNECTIONS value and both anchors, `config.runs` times."""
    started = time.monotonic()
    section = Section(
        "drain_fast", "Notifier drain, fast SMTP",
        {"sink": config.fast_sink, "events": config.drain_events,
         "mail_max_connections": list(config.drain_connections),
         "raw_smtplib_messages": config.raw_smtp_messages, "naive_events": config.naive_events,
         "queue": "quorum work queue preloaded through social.events, as the notifier declares it",
         "ledger": "SQLite file"},
    )
    drains: list[dict[int, Drain]] = []
    naive_runs: list[Drain] = []
    for _ in range(config.runs):
        summary, ours, naive = one_run(config)
        section.runs.append(summary)
        drains.append(ours)
        naive_runs.append(naive)
    best = max(config.drain_connections,
               key=lambda c: median([run["ours"][str(c)]["rate_per_s"] for run in section.runs]))
    section.params["best_mail_max_connections"] = best
    section.figures = figures(section.runs, config.drain_connections, best)
    section.series = {
        "ours": {str(c): rolling_rate(drains[0][c].sent) for c in config.drain_connections},
        "naive": rolling_rate(naive_runs[0].sent),
    }
    section.notes.append(
        f"The naive notifier drains {config.naive_events:,} events, ours {config.drain_events:,}: rates are rates, "
        "and the naive one's does not depend on the backlog (one message at a time, a new SMTP connection each).")
    section.notes.append(f"Best MAIL_MAX_CONNECTIONS here: {best}; every value tried is in the table.")
    cpu = {c: (median([r["ours"][str(c)]["cpu_cores"] for r in section.runs]),
               median([r["ours"][str(c)]["machine_cpu_cores"] for r in section.runs]))
           for c in config.drain_connections}
    section.notes.append("CPU while draining (notifier / whole machine, in cores of "
                         f"{os.cpu_count()}): " + ", ".join(f"MAIL_MAX_CONNECTIONS={c}: {n:.2f} / {m:.2f}"
                                                           for c, (n, m) in cpu.items()) + ".")
    section.notes.append(
        "The raw smtplib limit is measured with the sender and smtp-sink pinned to different CPUs, as two hosts "
        "would be. On one CPU the same loop runs about five times faster (median "
        f"{median([r['raw_smtplib_one_cpu_per_s'] for r in section.runs]):,.0f}/s here): each of the four round "
        "trips of a mail then needs no cross-CPU wake-up. Unpinned runs land on either, at random.")
    section.seconds = time.monotonic() - started
    return section


def figures(runs: list[dict[str, Any]], connections: tuple[int, ...], best: int) -> list[Figure]:
    raw = [r["raw_smtplib_per_s"] for r in runs]
    naive = [r["naive_per_s"] for r in runs]

    def ours(c: int) -> list[float]:
        return [r["ours"][str(c)]["rate_per_s"] for r in runs]

    def cpu_ms(c: int) -> list[float]:
        return [r["ours"][str(c)]["cpu_ms_per_mail"] for r in runs]

    out = [
        Figure.of("drain_fast", f"drain rate, best (MAIL_MAX_CONNECTIONS={best}) vs raw smtplib", "mails/s",
                  ours(best), raw, "raw smtplib, 1 connection, 2 CPUs", Target("ratio_min", 0.5, "≥ 0.5x raw")),
        Figure.of("drain_fast", f"drain rate, best (MAIL_MAX_CONNECTIONS={best}) vs raw smtplib unpinned", "mails/s",
                  ours(best), [r["raw_smtplib_unpinned_per_s"] for r in runs], "raw smtplib, 1 connection, unpinned"),
        Figure.of("drain_fast", f"drain rate, best (MAIL_MAX_CONNECTIONS={best}) vs smtp-source", "mails/s",
                  ours(best), [r["smtp_source_per_s"] for r in runs], "Postfix smtp-source, 1 session"),
        Figure.of("drain_fast", f"notifier CPU per mail (MAIL_MAX_CONNECTIONS={best})", "ms", cpu_ms(best),
                  [r["raw_smtplib_cpu_ms_per_mail"] for r in runs], "raw smtplib loop's own CPU per mail",
                  Target("below", 0.25, "≤ 0.25 ms")),
        Figure.of("drain_fast", f"drain rate, best (MAIL_MAX_CONNECTIONS={best}) vs naive", "mails/s",
                  ours(best), naive, "naive notifier", Target("ratio_min", 5, "≥ 5x naive")),
    ]
    out += [Figure.of("drain_fast", f"drain rate, MAIL_MAX_CONNECTIONS={c}", "mails/s", ours(c), raw,
                      "raw smtplib, 1 connection, 2 CPUs") for c in connections if c != best]
    out.append(setbacks_figure("drain_fast", [sum(r["ours"][str(c)]["retried_or_dead"] for c in connections)
                                              for r in runs]))
    return out


def setbacks_figure(section: str, per_run: list[float]) -> Figure:
    """Messages retried or dead-lettered during a section's drains: a healthy drain has none."""
    return Figure.of(section, "messages retried or dead-lettered in the drains", "count", per_run, None, "—",
                     Target("below", 1, "0"))
