"""6. Memory: the notifier's and the relay's resident set through their 20,000-event drains,
sampled from /proc every 100 ms by those measurements; the peak, and whether it grows."""

from __future__ import annotations

from typing import Any

from bench.figures import Figure, Section, Target

LIMIT_MIB = 100.0
#: The second half's peak may exceed the first's by this much and still count as flat: RSS moves
#: by a page or an arena now and then without any growth behind it.
NOISE = 1.02


def measure(drain_fast: Section, relay: Section) -> Section:
    """Read from the drain and relay sections' runs (the notifier at the most connections tried)."""
    connections = max(int(c) for c in drain_fast.runs[0]["ours"])
    notifier = [run["ours"][str(connections)] for run in drain_fast.runs]
    relays = relay.runs
    section = Section(
        "memory", "Memory (VmRSS) through the 20,000-event drains",
        {"notifier": f"notifier run, MAIL_MAX_CONNECTIONS={connections}, {drain_fast.params['events']:,} events",
         "relay": f"social relay, {relay.params['events']:,} events", "sampling": "/proc/PID/status every 100 ms",
         "limit_mib": LIMIT_MIB, "growth_noise_allowance": NOISE},
        runs=[{"notifier": n, "relay": r} for n, r in zip(notifier, _memory_only(relays), strict=True)],
    )
    section.figures = [*_figures("notifier", notifier), *_figures("relay", relays)]
    return section


def _memory_only(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in run.items() if k.endswith("_mib")} for run in runs]


def _figures(process: str, runs: list[dict[str, Any]]) -> list[Figure]:
    return [
        Figure.of("memory", f"{process} peak RSS", "MiB", [r["peak_mib"] for r in runs], LIMIT_MIB, "limit",
                  Target("below", LIMIT_MIB, "< 100 MiB")),
        Figure.of("memory", f"{process} RSS peak, 2nd half of drain vs 1st", "MiB",
                  [r["second_half_peak_mib"] for r in runs], [r["first_half_peak_mib"] for r in runs],
                  "1st-half peak", Target("ratio_max", NOISE, "≤ 1st half (+2%)")),
    ]
