"""12. Starting a command: `social --help` and `notifier --help`, which operators and scripts pay on
every command, beside the bare interpreter's start (`python -c pass`) in the same run."""

from __future__ import annotations

import os
import subprocess
import time

from bench.config import Config
from bench.figures import Figure, Section, Target
from bench.procs import python, script
from bench.stats import median

LIMIT_SECONDS = 0.3
COMMANDS = {"social --help": script("social", "--help"), "notifier --help": script("notifier", "--help")}


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of `argv`, which must succeed."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    wall = time.perf_counter() - started
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def measure(config: Config) -> Section:
    started = time.monotonic()
    repeats = 3 if config.smoke else 10
    section = Section("startup", "Starting a command", {"repeats": repeats, "anchor": "python -c pass"})
    for _ in range(config.runs):
        run: dict[str, float] = {}
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ("python -c pass", *COMMANDS)}
        for _ in range(repeats):  # in turns, so load on this shared machine falls on all of them
            samples["python -c pass"].append(timed(python("-c", "pass")))
            for name, argv in COMMANDS.items():
                samples[name].append(timed(argv))
        for name, values in samples.items():
            run[f"{name} wall_s"] = median([wall for wall, _ in values])
            run[f"{name} cpu_s"] = median([cpu for _, cpu in values])
        section.runs.append(run)
    anchor = [r["python -c pass wall_s"] for r in section.runs]
    section.figures = [
        Figure.of("startup", f"{name}, wall", "s", [r[f"{name} wall_s"] for r in section.runs], anchor,
                  "python -c pass", Target("below", LIMIT_SECONDS, f"< {LIMIT_SECONDS} s"))
        for name in COMMANDS
    ]
    cpu = {name: median([r[f"{name} cpu_s"] for r in section.runs]) for name in COMMANDS}
    section.notes.append("CPU of each start (user + system): "
                         + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in cpu.items())
                         + f"; each the median of {repeats} starts, taken in turns with the bare interpreter's.")
    section.seconds = time.monotonic() - started
    return section
