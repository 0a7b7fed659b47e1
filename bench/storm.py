"""9. A storm: 10,000 follows of one user within a minute, with follow notices `batched` (the
default). They must become a handful of mails (the first after the grace, then one per batching
window), while the notifier's memory and CPU stay flat as it gathers them, and each gathered mail
must go as its window ends. The grace and window are shortened (a few seconds) so a run takes
minutes, not a quarter of an hour; the arithmetic is the same."""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import pika
from microblog_contracts import EXCHANGE, USER_FOLLOWED

from bench import services
from bench.amqp import declare_notifier_topology, properties
from bench.config import Config
from bench.events import storm_follow
from bench.figures import Figure, Section, Target
from bench.infra import BenchError, rabbit_vhost, wait_for
from bench.sampling import Sampler, cpu_reader, metric_reader, quietly, rss_reader
from bench.sinks import TimestampingSink
from bench.workdir import scratch

HELD = "notifier_events_processed_total"


def one_run(config: Config) -> dict[str, Any]:
    count, seconds = config.storm_events, config.storm_seconds
    grace, window = config.storm_grace, config.storm_window
    bodies = [(e.id, e.to_json_bytes()) for e in (storm_follow(n) for n in range(count))]
    with scratch("storm") as workdir, rabbit_vhost("storm") as amqp_url, TimestampingSink() as sink:
        declare_notifier_topology(amqp_url)
        notifier, metrics = services.notifier(
            amqp_url, sink.address, workdir, connections=4, FOLLOW_NOTICE_DEFAULT="batched",
            NOTIFIER_FOLLOW_GRACE=f"{grace}s", NOTIFIER_BATCH_WINDOW=f"{window}s")
        try:
            held = metric_reader(metrics, HELD)
            rss = Sampler(rss_reader(notifier.pid), interval=0.25).start()
            cpu_before = cpu_reader(notifier.pid)() or 0.0
            started, first_sample = time.time(), time.monotonic() - rss.started
            connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
            channel = connection.channel()
            for n, (event_id, body) in enumerate(bodies):  # paced evenly over `seconds`
                delay = started + seconds * n / count - time.time()
                if delay > 0:
                    time.sleep(delay)
                channel.basic_publish(EXCHANGE, USER_FOLLOWED, body, properties(event_id, amqp_url))
            connection.close()
            last_follow = time.time()
            wait_for(lambda: (quietly(held) or 0) >= count, timeout=120, what=f"{count} notices held")
            gathered_at, last_sample = time.time(), time.monotonic() - rss.started
            cpu_gathering = (cpu_reader(notifier.pid)() or 0.0) - cpu_before
            rss_series = rss.stop()
            # Every notice is due by last_follow + grace; the window then open closes within `window`.
            settle = last_follow + grace + window + 5
            wait_for(lambda: time.time() > settle, timeout=grace + window + 60, what="the storm's last window",
                     interval=0.5)
        finally:
            notifier.stop()
    accepted = sorted(a.at for a in sink.accepted)
    if not accepted:
        raise BenchError("the storm sent no mail at all")
    windows_after_first = math.ceil(max(0.0, last_follow + grace - accepted[0]) / window)
    late = [a - (b + window) for b, a in itertools.pairwise(accepted)]
    during = [v for t, v in rss_series if first_sample <= t <= last_sample] or [0.0]
    tenth = max(1, len(during) // 10)
    return {
        "follows": count, "mails": len(accepted), "allowed": 1 + windows_after_first,
        "rss_peak_mib": max(during), "rss_early_mib": max(during[:tenth]),
        "cpu_cores_gathering": cpu_gathering / max(gathered_at - started, 1e-9),
        "cpu_ms_per_follow": 1000 * cpu_gathering / count,
        "window_end_to_mail_s": max(late) if late else 0.0,
    }


def measure(config: Config) -> Section:
    section = Section("storm", "A storm of follows to one user", {
        "follows": config.storm_events, "seconds": config.storm_seconds, "grace_s": config.storm_grace,
        "window_s": config.storm_window, "mode": "batched (FOLLOW_NOTICE_DEFAULT)", "ledger": "SQLite file"})
    section.runs = [one_run(config) for _ in range(config.runs)]
    runs = section.runs
    section.figures = [
        Figure.of("storm", f"storm: mails for {config.storm_events:,} follows of one user in "
                  f"{config.storm_seconds:.0f} s", "mails", [r["mails"] for r in runs], [r["allowed"] for r in runs],
                  "1 + one per batching window", Target("ratio_max", 1.0, "≤ 1 + one per window")),
        Figure.of("storm", "storm: notifier RSS peak while gathering vs its first tenth", "MiB",
                  [r["rss_peak_mib"] for r in runs], [r["rss_early_mib"] for r in runs], "RSS early in the storm",
                  Target("ratio_max", 1.1, "flat (≤ 1.1x)")),
        Figure.of("storm", "storm: notifier CPU while gathering", "cores", [r["cpu_cores_gathering"] for r in runs],
                  None, "—"),
        Figure.of("storm", "storm: notifier CPU per follow gathered", "ms", [r["cpu_ms_per_follow"] for r in runs],
                  None, "—"),
        Figure.of("storm", "storm: from a window's end to its gathered mail", "s",
                  [r["window_end_to_mail_s"] for r in runs], 2.0, "limit", Target("below", 2.0, "< 2 s")),
    ]
    section.notes.append(
        f"The storm: {config.storm_events:,} follows of one user published evenly over {config.storm_seconds:.0f} s, "
        f"grace {config.storm_grace:.0f} s and batching window {config.storm_window:.0f} s (the defaults are 60 s and "
        "15 min: the same arithmetic, a run of minutes instead of a quarter of an hour).")
    return section
