"""8. Where the notifier's time goes: py-spy samples `notifier run` through a fast drain; the
folded stacks are kept in bench/out/ (speedscope.app and flamegraph.pl read them) and summed
into the functions that cost the most on their own (not counting what they call)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.config import Config
from bench.drains import notifier_drain
from bench.infra import BenchError
from bench.procs import BIN, Proc
from bench.sinks import fast_sink
from bench.workdir import scratch

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
TOP = 15


#: Two looks at the same kind of drain: every thread that is not idle (py-spy's default, as
#: `py-spy top` shows it: wall time, waits inside C calls included), and only the thread holding
#: the GIL (the Python work that uses the CPU).
VIEWS: dict[str, tuple[list[str], str]] = {
    "threads": ([], "non-idle threads (py-spy default): wall time, waits inside C calls included"),
    "gil": (["--gil"], "the thread holding the GIL: Python's own CPU work"),
}


def py_spy(out: Path, extra: list[str]) -> Callable[[Proc], Callable[[], None]]:
    """An `on_running` hook: attach `py-spy record` to the notifier, stop it after the drain."""

    def attach(target: Proc) -> Callable[[], None]:
        argv = [str(BIN / "py-spy"), "record", "--pid", str(target.pid), "--rate", "200", "--format", "raw",
                "--output", str(out), *extra]
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def stop() -> None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
            try:
                _, err = spy.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
                raise BenchError("py-spy did not stop within 60 s") from None
            if not out.exists():
                raise BenchError(f"py-spy wrote no profile: {err.decode(errors='replace')[-1000:]}")

        return stop

    return attach


def frame_name(frame: str) -> str:
    """`function (pika/channel.py:123)` as `function (pika/channel.py)`: a function's lines summed."""
    match = _FRAME.match(frame.strip())
    return f"{match['function']} ({match['file']})" if match else frame.strip()


def package_of(frame: str) -> str:
    """The library (pika, sqlalchemy...), our package, or the standard-library module of a frame.

    py-spy names files relative to the sys.path entry they came from: `pika/channel.py`,
    `notifier/consumer.py`, `threading.py`.
    """
    match = _FRAME.match(frame.strip())
    path = match["file"] if match else frame
    return path.split("/", 1)[0].removesuffix(".py") if "/" in path else path.removesuffix(".py")


def own_time(folded: str, top: int = TOP) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """The `top` leaf functions and packages by samples, from py-spy's folded stacks
    (`a;b;c COUNT` lines), and the number of samples."""
    leaves: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        leaf = stack.split(";")[-1]
        leaves[frame_name(leaf)] += n
        packages[package_of(leaf)] += n

    def rows(counter: Counter[str], key: str) -> list[dict[str, Any]]:
        return [{key: name, "samples": n, "share": n / total} for name, n in counter.most_common(top)]

    return rows(leaves, "function"), rows(packages, "package"), total


def measure(config: Config, out_dir: Path) -> dict[str, Any]:
    """One profiled fast drain per view; returns the summary that goes into results.json."""
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    views: dict[str, Any] = {}
    for view, (extra, meaning) in VIEWS.items():
        folded = out_dir / f"notifier-profile-{view}.folded"
        folded.unlink(missing_ok=True)
        with scratch("profile") as workdir, fast_sink(config.fast_sink, workdir) as sink:
            drain = notifier_drain(sink, workdir, events=config.profile_events,
                                   connections=config.profile_connections, label="profile",
                                   on_running=py_spy(folded, extra))
        top, packages, total = own_time(folded.read_text())
        views[view] = {"meaning": meaning, "file": str(folded), "samples": total, "drain_rate_per_s": drain.rate,
                       "cpu_cores": drain.cpu_share(), "machine_cpu_cores": drain.machine_share(),
                       "top_own_time": top, "own_time_by_package": packages}
    return {
        "name": "profile", "title": "Notifier profile (py-spy) during a fast drain",
        "params": {"events": config.profile_events, "mail_max_connections": config.profile_connections,
                   "sink": config.fast_sink, "sampler": "py-spy record --rate 200 --format raw",
                   "open_with": "speedscope.app or flamegraph.pl read the folded files"},
        "top_own_time": views["threads"]["top_own_time"], "views": views,
        "seconds": round(time.monotonic() - started, 1),
    }


def print_top(profile: dict[str, Any]) -> None:
    for view in profile["views"].values():
        print(f"\nnotifier, {view['meaning']}: top {len(view['top_own_time'])} functions by own time "
              f"({view['samples']} samples; the drain ran at {view['drain_rate_per_s']:,.0f} mails/s using "
              f"{view['cpu_cores']:.2f} cores, the machine {view['machine_cpu_cores']:.2f} of {os.cpu_count()})")
        for row in view["top_own_time"]:
            print(f"  {row['share']:6.1%}  {row['function']}")
        print("  by package: " + ", ".join(
            f"{row['package']} {row['share']:.0%}" for row in view["own_time_by_package"][:10]))
