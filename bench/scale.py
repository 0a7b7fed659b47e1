"""7. Scale out: 1, 2 and 4 notifier processes on one queue, each with the same number of SMTP
connections, into the 200 ms sink; against the sink's own ceiling measured in the same run."""

from __future__ import annotations

import itertools
import re
import time

from bench.config import Config
from bench.drain_fast import setbacks_figure
from bench.drains import notifier_drain
from bench.figures import Figure, Section
from bench.sinks import slow_sink
from bench.smtp_limit import smtplib_rate
from bench.stats import median, rolling_rate, steady_rate
from bench.workdir import scratch

#: A step that adds less than this share of its proportional gain is where the knee is.
PROPORTIONAL_ENOUGH = 0.8


def measure(config: Config) -> Section:
    started = time.monotonic()
    most = max(config.scale_processes) * config.scale_connections
    section = Section(
        "scale", "Scale out: notifier processes on one queue, 200 ms SMTP",
        {"processes": list(config.scale_processes), "mail_max_connections_each": config.scale_connections,
         "events_per_process": config.scale_events_per_process, "ledger": "one SQLite file shared by the processes",
         "sink": f"bench/anchors/slow_smtp_sink.py --delay-ms {config.smtp_delay_ms}",
         "sink_ceiling": f"raw smtplib, {most} connections, {config.sink_ceiling_messages} pre-built messages"},
    )
    for run in range(config.runs):
        with scratch("scale") as workdir, slow_sink(config.smtp_delay_ms, workdir) as sink:
            ceiling = smtplib_rate(sink, config.sink_ceiling_messages, connections=most)
            drains = {n: notifier_drain(sink, workdir, events=config.scale_events_per_process * n,
                                        connections=config.scale_connections, processes=n, label=f"scale{n}")
                      for n in config.scale_processes}
        section.runs.append({"sink_ceiling_per_s": ceiling, **{str(n): d.rate for n, d in drains.items()},
                             "steady_per_s": {str(n): steady_rate(d.sent, d.events) for n, d in drains.items()},
                             "retried_or_dead": sum(d.setbacks for d in drains.values()),
                             "retry_reasons": "; ".join(d.setback_reasons for d in drains.values() if d.setbacks)})
        if run == 0:
            section.series = {str(n): rolling_rate(d.sent, 1.0) for n, d in drains.items()}
    ceilings = [r["sink_ceiling_per_s"] for r in section.runs]
    rates = {n: [r[str(n)] for r in section.runs] for n in config.scale_processes}
    first = config.scale_processes[0]
    for n in config.scale_processes:
        section.figures.append(Figure.of(
            "scale", f"{n} notifier process{'es' if n > 1 else ''} x {config.scale_connections} connections",
            "mails/s", rates[n], ceilings, "sink ceiling (raw smtplib)"))
        if n != first:
            section.figures.append(Figure.of(
                "scale", f"{n} processes vs {n // first}x one process", "mails/s", rates[n],
                [r[str(first)] * n / first for r in section.runs], f"{n // first}x the 1-process rate"))
    section.figures.append(setbacks_figure("scale", [r["retried_or_dead"] for r in section.runs]))
    section.notes.append(knee_sentence({n: median(v) for n, v in rates.items()}, median(ceilings)))
    troubled = [re.sub(r" \(x\d+\)", "", r["retry_reasons"]).split("; ")[0]
                for r in section.runs if r["retried_or_dead"]]
    if troubled:
        steady = {n: median([r["steady_per_s"][str(n)] for r in section.runs]) for n in config.scale_processes}
        section.notes.append(
            f"The scale-out drains were not clean: the notifiers retried messages ({troubled[0]}), so the rates "
            "above, first mail to last, include the wait for the retried ones. Between 10% and 90% of the mails "
            "the rates were " + ", ".join(f"{steady[n]:,.0f}/s with {n}" for n in config.scale_processes)
            + f". Read that way: {knee_sentence(steady, median(ceilings))}")
    section.seconds = time.monotonic() - started
    return section


def knee_sentence(rates: dict[int, float], ceiling: float) -> str:
    """Where adding processes stops adding proportionally, in words, from the medians."""
    steps = sorted(rates)
    parts, knee = [], None
    for low, high in itertools.pairwise(steps):
        gain, proportional = rates[high] / rates[low], high / low
        share = (gain - 1) / (proportional - 1)
        parts.append(f"{low}->{high} processes: x{gain:.2f} (x{proportional:.0f} would be proportional, "
                     f"{share:.0%} of it)")
        if knee is None and share < PROPORTIONAL_ENOUGH:
            knee = low
    top = steps[-1]
    where = (f"the knee is at {knee} process{'es' if knee and knee > 1 else ''}: the next step adds "
             f"less than {PROPORTIONAL_ENOUGH:.0%} of a proportional gain" if knee is not None
             else f"no knee up to {top} processes: each step added at least {PROPORTIONAL_ENOUGH:.0%} "
                  "of its proportional gain")
    return (f"{'; '.join(parts)}. So {where}; at {top} processes the rate is {rates[top] / ceiling:.0%} "
            f"of the sink's own ceiling ({ceiling:,.0f} mails/s).")
