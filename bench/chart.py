"""bench/chart.png: follow latency distributions per contestant and concurrency, and the drain
rates over time (fast and slow SMTP, scale-out, relay), from the sections' series."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench.figures import Section

#: The same contestant in the same colour on every panel; our variants take the default cycle.
COLOURS = {"ours": "tab:green", "none": "tab:gray", "thread": "tab:orange", "sync": "tab:red",
           "naive notifier": "tab:red", "ours relay": "tab:green", "sqlite": "tab:green", "postgresql": "tab:blue"}


def _cdf(ax: Axes, percentiles: Sequence[float], label: str, colour: str | None = None,
         style: str = "-") -> None:
    """A distribution from its 0th..100th percentiles."""
    if not percentiles:
        return
    ax.plot(percentiles, range(len(percentiles)), style, label=label, color=colour)


def _plain_log_axis(ax: Axes) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _rates(ax: Axes, series: dict[str, Any], title: str, unit: str = "mails/s") -> None:
    for label, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=label, color=COLOURS.get(label))
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("seconds", fontsize=8)
    ax.set_ylabel(unit, fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def _latency_panels(axes: Sequence[Axes], section: Section) -> set[int]:
    """One panel per concurrency level (at most len(axes)); returns the panels used."""
    latencies = section.series["latency_ms_percentiles"]
    levels = list(next(iter(latencies.values())).keys())[: len(axes)]
    for ax, level in zip(axes, levels, strict=False):
        for contestant, by_level in latencies.items():
            name = contestant if contestant.startswith("ours") else f"tutorial {contestant}"
            # A contestant's PostgreSQL run: its SQLite colour, dashed.
            base, on_postgres = contestant.split(" (")[0], " (" in contestant
            _cdf(ax, by_level.get(level, []), name, COLOURS.get(base), "--" if on_postgres else "-")
        _plain_log_axis(ax)
        ax.set_title(f"follow latency, {level} client(s)", fontsize=9)
        ax.set_xlabel("ms (log)", fontsize=8)
        ax.set_ylabel("percentile", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    return set(range(len(levels)))


def draw(sections: Sequence[Section], path: Path) -> None:
    """Write the chart; panels whose section did not run stay out."""
    by_name = {s.name: s for s in sections if not s.error}
    fig, grid = plt.subplots(3, 3, figsize=(16, 13))
    axes = list(grid.flat)
    used: set[int] = set()
    if "latency" in by_name:
        used |= _latency_panels(axes[:3], by_name["latency"])
    if "drain_fast" in by_name:
        s, sink = by_name["drain_fast"].series, by_name["drain_fast"].params["sink"]
        _rates(axes[3], {**{f"ours MAIL_MAX_CONNECTIONS={c}": v for c, v in s["ours"].items()},
                         "naive notifier": s["naive"]}, f"drain, fast SMTP ({sink}): rate over time")
        used.add(3)
    if "drain_slow" in by_name:
        s = by_name["drain_slow"].series
        _rates(axes[4], {"ours": s.get("ours", []), "naive notifier": s.get("naive", [])},
               "drain, 200 ms SMTP: rate over time")
        used.add(4)
    if "scale" in by_name:
        _rates(axes[5], {f"ours {n} process(es)": v for n, v in by_name["scale"].series.items()},
               "scale-out, 200 ms SMTP: rate over time")
        used.add(5)
    if "relay" in by_name:
        _rates(axes[6], {"ours relay": by_name["relay"].series.get("published", [])},
               "relay: events published per second", "events/s")
        used.add(6)
    if "e2e" in by_name:
        ax = axes[7]
        for kind, values in by_name["e2e"].series["latency_ms_percentiles"].items():
            _cdf(ax, values, f"{kind}", COLOURS.get(kind))
        _plain_log_axis(ax)
        ax.set_title("end to end: follow answered -> mail accepted", fontsize=9)
        ax.set_xlabel("ms (log)", fontsize=8)
        ax.set_ylabel("percentile", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
        used.add(7)
    if "relay" in by_name and by_name["relay"].series.get("rss_mib"):
        _rates(axes[8], {"ours relay": by_name["relay"].series["rss_mib"]}, "relay RSS during its drain", "MiB")
        used.add(8)
    for i, ax in enumerate(axes):
        if i not in used:
            ax.set_visible(False)
    fig.suptitle("Microblog benchmark: ours against the tutorial's design (bench/anchors)", fontsize=12)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
