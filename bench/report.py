"""The outputs of a run: the printed table, results.json, and the README's benchmark block."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.config import Config
from bench.figures import Figure, Section
from bench.machine import one_line

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
COLUMNS = ("what", "ours", "anchor / limit", "ratio", "target", "")


def number(value: float, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit in ("count", ""):
        return f"{value:,.0f}" if unit == "count" or float(value).is_integer() else f"{value:,.2f}"
    digits = 0 if abs(value) >= 99.95 else 1 if abs(value) >= 9.995 else 2
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}" if unit else text


def row(figure: Figure) -> tuple[str, ...]:
    unit = figure.unit
    anchor = number(figure.anchor, unit)
    anchor_cell = f"{anchor} ({figure.anchor_label})" if anchor != "—" else "—"
    ratio = "—" if math.isnan(figure.ratio) else f"{figure.ratio:.2f}x"
    return (figure.what, number(figure.ours, unit), anchor_cell, ratio, figure.target.text, figure.mark)


def table_text(figures: Sequence[Figure]) -> str:
    rows = [COLUMNS, *(row(f) for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table_markdown(figures: Sequence[Figure]) -> str:
    lines = ["| " + " | ".join(COLUMNS[:-1]) + " | mark |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row(f)) + " |" for f in figures]
    return "\n".join(lines)


def results_document(config: Config, machine: dict[str, Any], sections: Sequence[Section],
                     seconds: float) -> dict[str, Any]:
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    return {
        "machine": machine, "config": settings, "seconds": round(seconds, 1),
        "ratio": "median over runs of (ours / anchor measured in the same run)",
        "sections": {s.name: s.to_json() for s in sections},
    }


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def readme_block(config: Config, machine: dict[str, Any], sections: Sequence[Section], seconds: float,
                 chart: str) -> str:
    figures = [f for s in sections for f in s.figures]
    missed = [f for f in figures if f.passed is False]
    notes = [n for s in sections for n in s.notes]
    notes += [f"**{s.name} failed**: {s.error.strip().splitlines()[0][:400]}" for s in sections if s.error]
    parts = [
        f"Measured on {one_line(machine)}, in {seconds / 60:.0f} minutes. Every figure is the median of "
        f"{config.runs} runs; the ratio is the median of ours ÷ anchor, both measured in the same run. "
        f"{len(figures) - len(missed)} of {len(figures)} figures pass or are shown for information; "
        f"{len(missed)} miss their target.",
        "",
        table_markdown(figures),
        "",
        *[f"- {n}" for n in notes],
        "",
        f"![Follow latency per contestant and concurrency; drain rates over time]({chart})",
        "",
        "Every run's numbers, the anchors and the targets are in `bench/results.json`.",
    ]
    return "\n".join(parts)


def rewrite_readme(readme: Path, block: str) -> None:
    """Replace what is between the bench markers, and nothing else."""
    text = readme.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no {START} ... {END} block")
    readme.write_text(text[: start + len(START)] + "\n" + block.strip() + "\n" + text[end:])
