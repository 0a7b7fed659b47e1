"""Time series taken while a measurement runs: a counter scraped from /metrics, a queue's depth,
a process's resident memory. Each sampler is a thread that stops when asked."""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

Sample = tuple[float, float]  # (seconds since the sampler's start, value)


class Sampler:
    """Calls `read` every `interval` seconds and keeps (t, value) pairs; `read` may return None."""

    def __init__(self, read: Callable[[], float | None], interval: float = 0.1) -> None:
        self.read = read
        self.interval = interval
        self.samples: list[Sample] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-sampler")

    def start(self) -> Sampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(10)
        return self.samples

    def latest(self) -> float | None:
        return self.samples[-1][1] if self.samples else None

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic() - self.started
            try:
                value = self.read()
            except Exception:  # a probe that fails once (a process starting) is skipped, not fatal
                value = None
            if value is not None:
                self.samples.append((t, value))
            self._stop.wait(self.interval)


def metric_reader(url: str, name: str) -> Callable[[], float | None]:
    """Reads the sum of every series of metric `name` (e.g. `notifier_mails_sent_total`) at `url`."""
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.eE+-]+)$", re.MULTILINE)

    def read() -> float | None:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own probe on localhost
            text = response.read().decode()
        values = [float(v) for v in pattern.findall(text)]
        return sum(values) if values else None

    return read


def quietly(read: Callable[[], float | None]) -> float | None:
    """One reading, None if the process does not answer yet."""
    try:
        return read()
    except OSError:
        return None


def summed(readers: list[Callable[[], float | None]]) -> Callable[[], float | None]:
    """One reader adding several (the same counter of several processes); None until all answer."""

    def read() -> float | None:
        values = [r() for r in readers]
        return None if any(v is None for v in values) else sum(v for v in values if v is not None)

    return read


def cpu_reader(pid: int) -> Callable[[], float | None]:
    """Reads the CPU seconds (user + system, every thread) `pid` has used; None once it is gone."""
    stat = Path(f"/proc/{pid}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime: fields 14 and 15 of stat(5)

    return read


def machine_cpu_reader() -> float | None:
    """CPU seconds the whole machine has been busy (every CPU, every process), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_reader(pid: int) -> Callable[[], float | None]:
    """Reads VmRSS of `pid` in MiB from /proc; None once the process is gone."""
    status = Path(f"/proc/{pid}/status")

    def read() -> float | None:
        try:
            text = status.read_text()
        except OSError:
            return None
        match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
        return int(match[1]) / 1024 if match else None

    return read
