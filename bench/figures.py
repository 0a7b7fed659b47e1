"""A figure of the table: our median beside its anchor's (or a limit), the ratio, the target.

Every figure keeps each run's numbers. `ours` and `anchor` are medians over runs; `ratio` is
the median of the per-run ratios ours ÷ anchor, each taken from numbers measured in the same run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bench.stats import median

#: How a target reads the figure: the ratio at most / at least a value, or our number below /
#: at least a value, or no target at all (a figure shown for information).
TargetKind = Literal["ratio_max", "ratio_min", "below", "at_least", "info"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    value: float = math.nan
    text: str = "—"

    def passes(self, ours: float, ratio: float) -> bool | None:
        if self.kind == "info":
            return None
        checked = ratio if self.kind.startswith("ratio") else ours
        if math.isnan(checked):
            return False
        if self.kind == "ratio_max":
            return checked <= self.value
        if self.kind == "ratio_min":
            return checked >= self.value
        if self.kind == "below":
            return checked < self.value
        return checked >= self.value


INFO = Target("info")


@dataclass
class Figure:
    """One line of the table."""

    section: str
    what: str
    unit: str
    ours: float
    anchor: float
    anchor_label: str
    ratio: float
    target: Target
    passed: bool | None
    runs_ours: list[float] = field(default_factory=list)
    runs_anchor: list[float] = field(default_factory=list)
    runs_ratio: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, section: str, what: str, unit: str, ours: list[float], anchor: list[float] | float | None,
           anchor_label: str, target: Target = INFO) -> Figure:
        """A figure from per-run numbers; a float `anchor` is a fixed limit, None no anchor."""
        if anchor is None:
            anchors = [math.nan] * len(ours)
        elif isinstance(anchor, int | float):
            anchors = [float(anchor)] * len(ours)
        else:
            anchors = list(anchor)
        ratios = [o / a if a and not math.isnan(a) else math.nan for o, a in zip(ours, anchors, strict=True)]
        ours_m, anchor_m, ratio_m = median(ours), median(anchors), median(ratios)
        return cls(section, what, unit, ours_m, anchor_m, anchor_label, ratio_m, target,
                   target.passes(ours_m, ratio_m), list(ours), anchors, ratios)

    @property
    def mark(self) -> str:
        return {True: "PASS", False: "MISS", None: "info"}[self.passed]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = asdict(self.target)
        data["mark"] = self.mark
        finite: dict[str, Any] = _finite(data)
        return finite


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing numbers become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@dataclass
class Section:
    """What one measurement hands to the report: figures, raw runs, series for the chart, notes."""

    name: str
    title: str
    params: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @classmethod
    def failed(cls, name: str, error: str) -> Section:
        """A measurement that could not finish: one MISS line in the table, the error kept."""
        first_line = error.strip().splitlines()[0][:150] if error.strip() else "failed"
        figure = Figure.of(name, f"{name} FAILED: {first_line}", "", [math.nan], None, "—",
                           Target("at_least", 1, "completes"))
        return cls(name, name, {}, figures=[figure], error=error)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = _finite({
            "name": self.name, "title": self.title, "params": self.params, "seconds": round(self.seconds, 1),
            "figures": [f.to_json() for f in self.figures], "runs": self.runs, "series": self.series,
            "notes": self.notes, "error": self.error,
        })
        return document
