"""Draining a preloaded work queue: our notifier (one or more `notifier run` processes) or the
tutorial's naive notifier, with the mail rate and the processes' memory sampled as it goes."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import services
from bench.amqp import declare_notifier_topology, depth_reader, preload
from bench.events import encoded_events
from bench.infra import BenchError, rabbit_vhost, wait_for
from bench.procs import Proc, python
from bench.sampling import (
    Sample,
    Sampler,
    cpu_reader,
    machine_cpu_reader,
    metric_reader,
    quietly,
    rss_reader,
    summed,
)
from bench.sinks import ANCHORS, SinkAddress
from bench.stats import active_span, drain_rate, drained_from_depth, halves_peak, steady_rate

SENT = "notifier_mails_sent_total"
#: Not mailed on the first try: a drain in a benchmark should have none of these.
SETBACKS = ("notifier_mails_retried_total", "notifier_mails_dead_lettered_total")
#: A drain whose count has not moved for this long has failed (a notifier that retries every
#: message, say), whatever its overall time limit says.
STALL_SECONDS = 60.0


_REASON = re.compile(r'"reason": "([^"]{1,90})')


def setback_reasons(procs: list[Proc]) -> str:
    """Why the notifiers retried or dead-lettered messages, from their logs: the commonest reasons."""
    reasons: Counter[str] = Counter()
    for proc in procs:
        if proc.log_path.exists():
            reasons.update(_REASON.findall(proc.log_path.read_text(errors="replace")))
    return "; ".join(f"{reason} (x{count})" for reason, count in reasons.most_common(2))


class Progress:
    """Notices a counter that stopped moving."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.value: float | None = None
        self.since = time.monotonic()

    def stalled(self, value: float | None) -> bool:
        if value != self.value:
            self.value, self.since = value, time.monotonic()
        return time.monotonic() - self.since > self.limit


@dataclass
class Drain:
    """One drain: how many, how fast, the cumulative count and each process's RSS (MiB) over time."""

    events: int
    rate: float
    sent: list[Sample]
    rss: list[list[Sample]] = field(default_factory=list)
    cpu: list[list[Sample]] = field(default_factory=list)
    setbacks: float = 0.0  # messages retried or dead-lettered instead of mailed at the first try
    setback_reasons: str = ""
    machine_cpu: list[Sample] = field(default_factory=list)

    def memory(self) -> dict[str, float]:
        """Peak RSS, and the peaks of the first and second half of the drain (the first process)."""
        if not self.rss:
            return {}
        start, end = active_span(self.sent, self.events)
        first, second = halves_peak(self.rss[0], start, end)
        return {"peak_mib": max(v for _, v in self.rss[0]), "first_half_peak_mib": first,
                "second_half_peak_mib": second}

    def cpu_share(self) -> float:
        """CPU the notifier processes used while mails went out, in cores (1.0 = one core busy)."""
        return sum(self._cores(series) for series in self.cpu) if self.cpu else math.nan

    def cpu_ms_per_mail(self) -> float:
        """The notifier processes' CPU milliseconds per mail sent: their CPU seconds from the last
        sample before the first mail to the first sample after the last (or the last sample, taken
        as the drain ended), over the mails sent between the two (a tenth of a second at either end
        at most)."""
        if not self.cpu:
            return math.nan
        start, end = active_span(self.sent, self.events)
        cpu = 0.0
        for series in self.cpu:
            before = [v for t, v in series if t <= start]
            after = [v for t, v in series if t >= end] or [v for _, v in series[-1:]]
            if not before or not after:
                return math.nan
            cpu += after[0] - before[-1]
        sent_before = [v for t, v in self.sent if t < start]
        mails = self.events - (sent_before[-1] if sent_before else 0.0)
        return 1000 * cpu / mails if mails > 0 else math.nan

    def machine_share(self) -> float:
        """CPU the whole machine used meanwhile (broker, sink, sampling included), in cores."""
        return self._cores(self.machine_cpu)

    def _cores(self, series: list[Sample]) -> float:
        start, end = active_span(self.sent, self.events)
        during = [(t, v) for t, v in series if start <= t <= end]
        if len(during) < 2 or during[-1][0] <= during[0][0]:
            return math.nan
        return (during[-1][1] - during[0][1]) / (during[-1][0] - during[0][0])

    def summary(self) -> dict[str, Any]:
        return {"events": self.events, "rate_per_s": self.rate,
                "steady_rate_per_s": steady_rate(self.sent, self.events), "cpu_cores": self.cpu_share(),
                "cpu_ms_per_mail": self.cpu_ms_per_mail(), "machine_cpu_cores": self.machine_share(),
                "retried_or_dead": self.setbacks, "retry_reasons": self.setback_reasons, **self.memory()}


def _timeout(events: int, floor_rate: float = 20.0) -> float:
    return 60 + events / floor_rate


def notifier_drain(sink: SinkAddress, workdir: Path, *, events: int, connections: int | None, processes: int = 1,
                   label: str = "drain", on_running: Callable[[Proc], Callable[[], None]] | None = None,
                   **env: str) -> Drain:
    """Preload `events`, start `processes` notifiers on the queue, sample until all are mailed.

    `on_running(proc)` is called once the first notifier serves its probes (a profiler attaches
    then); it returns what to call when the drain is over.
    """
    with rabbit_vhost(label) as amqp_url, ExitStack() as stack:
        topology = declare_notifier_topology(amqp_url)
        preload(amqp_url, topology.queue, encoded_events(events))
        ledger = workdir / f"{label}-ledger.db"
        procs: list[tuple[Proc, str]] = []
        for i in range(processes):
            proc, metrics = services.notifier(amqp_url, sink, workdir, connections=connections,
                                              name=f"{label}-notifier-{i}", ledger=ledger, wait=False, **env)
            stack.callback(proc.stop)
            procs.append((proc, metrics))
        sent = Sampler(summed([metric_reader(m, SENT) for _, m in procs])).start()
        rss = [Sampler(rss_reader(p.pid)).start() for p, _ in procs]
        cpu = [Sampler(cpu_reader(p.pid)).start() for p, _ in procs]
        machine = Sampler(machine_cpu_reader).start()
        if on_running is not None:
            first, metrics = procs[0]
            wait_for(lambda: quietly(metric_reader(metrics, SENT)) is not None or not first.running, timeout=60,
                     what="the notifier's metrics")
            stack.callback(on_running(first))

        progress = Progress(STALL_SECONDS)

        def finished() -> bool:
            dead = [p for p, _ in procs if not p.running]
            if dead:
                raise BenchError(f"{dead[0].name} exited during the drain:\n{dead[0].tail()}")
            if progress.stalled(sent.latest()):
                raise BenchError(f"no mail sent for {STALL_SECONDS:.0f} s ({sent.latest() or 0:.0f} of {events}); "
                                 f"retried: {setback_reasons([p for p, _ in procs]) or 'none'}\n"
                                 f"{procs[0][0].tail()}")
            return (sent.latest() or 0) >= events

        try:
            wait_for(finished, timeout=_timeout(events), what=f"{events} mails", interval=0.1)
        except BenchError as exc:
            why = setback_reasons([p for p, _ in procs]) or "none"
            raise BenchError(f"{exc}; {sent.latest()} sent; retried: {why}. The notifier's last words:\n"
                             f"{procs[0][0].tail(1500)}") from None
        samples = sent.stop()
        rss_series, cpu_series = [r.stop() for r in rss], [c.stop() for c in cpu]
        setbacks = sum(quietly(metric_reader(m, name)) or 0.0 for _, m in procs for name in SETBACKS)
        why = setback_reasons([p for p, _ in procs]) if setbacks else ""
    return Drain(events, drain_rate(samples, events), samples, rss_series, cpu_series, setbacks, why,
                 machine.stop())


def naive_drain(sink: SinkAddress, workdir: Path, *, events: int, label: str = "naive") -> Drain:
    """The tutorial's notifier behind a queue (bench/anchors/naive_notifier.py) on `events`."""
    with rabbit_vhost(label) as amqp_url:
        topology = declare_notifier_topology(amqp_url)
        preload(amqp_url, topology.queue, encoded_events(events, prefix="n"))
        env = {"AMQP_URL": amqp_url, "QUEUE": topology.queue, "MAIL_SERVER": sink.host,
               "MAIL_PORT": str(sink.port), "IDLE": "2"}
        with depth_reader(amqp_url, topology.queue) as read_depth:
            depth = Sampler(read_depth).start()
            proc = Proc(f"{label}-notifier", python(str(ANCHORS / "naive_notifier.py")), env=env,
                        log_dir=workdir, cwd=workdir).start()
            try:
                wait_for(lambda: depth.latest() == 0 or not proc.running, timeout=_timeout(events, 2.0),
                         what=f"the naive notifier to drain {events}", interval=0.1)
                code = proc.wait(60)
            finally:
                proc.stop()
                samples = depth.stop()
        if code != 0:
            raise BenchError(f"naive_notifier.py exited {code}:\n{proc.tail()}")
    drained = drained_from_depth(samples, events)
    rate = drain_rate(drained, events)
    return Drain(events, rate if not math.isnan(rate) else math.nan, drained)
