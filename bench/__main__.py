"""`python -m bench`: run the measurements, print one table, write results.json and chart.png,
and (a full run only) rewrite the README's benchmark block. `--profile` profiles the notifier."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench import (
    announce,
    chart,
    cluster,
    drain_fast,
    drain_slow,
    e2e,
    latency,
    memory,
    profile,
    relay,
    render,
    report,
    scale,
    startup,
    storm,
)
from bench.config import Config
from bench.figures import Section
from bench.infra import BenchError
from bench.machine import describe

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("latency", "drain_fast", "drain_slow", "e2e", "relay", "memory", "scale", "storm", "cluster", "render",
            "announce", "startup")
#: Sections that read another's runs instead of measuring on their own.
NEEDS = {"memory": ("drain_fast", "relay")}
MEASURE: dict[str, Callable[[Config], Section]] = {
    "latency": latency.measure, "drain_fast": drain_fast.measure, "drain_slow": drain_slow.measure,
    "e2e": e2e.measure, "relay": relay.measure, "scale": scale.measure, "storm": storm.measure,
    "cluster": cluster.measure, "render": render.measure, "announce": announce.measure,
    "startup": startup.measure,
}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run; never touches the README")
    p.add_argument("--runs", type=int, help="runs per figure, the median is reported (default 3; smoke 1)")
    p.add_argument("--out", type=Path, default=ROOT / "bench", help="where results.json and chart.png go")
    p.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                   help=f"run only these ({', '.join(SECTIONS)}); the README is left alone")
    p.add_argument("--profile", action="store_true",
                   help="instead of the table: py-spy on the notifier during a fast drain (files in OUT/out/)")
    p.add_argument("--fast-sink", choices=("smtp-sink", "aiosmtpd"), default="smtp-sink",
                   help="the fast SMTP server: Postfix's smtp-sink (default), or the anchors' aiosmtpd sink at "
                        "no delay, for a machine without postfix (its ceiling is lower: ~750/s)")
    p.add_argument("--no-postgres", action="store_true", help="end to end on SQLite only")
    p.add_argument("--readme", type=Path, default=ROOT / "README.md", help="the README whose bench block to rewrite")
    return p.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    out = args.out.resolve()
    config = Config.smoke_sized(out) if args.smoke else Config(out=out)
    overrides: dict[str, object] = {"fast_sink": args.fast_sink, "postgres": not args.no_postgres}
    if args.runs is not None:
        overrides["runs"] = max(1, args.runs)
    return replace(config, **overrides)  # type: ignore[arg-type]


def wanted(only: list[str] | None) -> list[str]:
    chosen = set(only or SECTIONS)
    for section in list(chosen):
        chosen.update(NEEDS.get(section, ()))
    return [s for s in SECTIONS if s in chosen]


def measure_one(config: Config, name: str, done: dict[str, Section]) -> Section:
    """One section; a failure becomes a failed section, so the others still run."""
    try:
        if name == "memory":
            if any(done[n].error for n in NEEDS["memory"]):
                return Section.failed(name, "needs drain_fast and relay, and one of them failed")
            return memory.measure(done["drain_fast"], done["relay"])
        return MEASURE[name](config)
    except BenchError as exc:
        print(f"bench: {name} FAILED: {exc}", file=sys.stderr, flush=True)
        return Section.failed(name, str(exc))


def run_sections(config: Config, names: list[str]) -> list[Section]:
    done: dict[str, Section] = {}
    for name in names:
        print(f"bench: {name} ...", flush=True)
        started, load = time.monotonic(), os.getloadavg()
        section = measure_one(config, name, done)
        section.seconds = section.seconds or time.monotonic() - started
        section.params["load_average_at_start"] = [round(v, 2) for v in load]
        done[name] = section
        print(f"bench: {name} done in {section.seconds:.0f} s", flush=True)
        for figure in section.figures:
            print("  " + " | ".join(report.row(figure)), flush=True)
    return list(done.values())


def run_profile(config: Config) -> int:
    result = profile.measure(config, config.out / "out")
    profile.print_top(result)
    results = config.out / "results.json"
    if results.exists():
        document = json.loads(results.read_text())
        document.setdefault("sections", {})["profile"] = result
        report.write_results(results, document)
        print(f"bench: the profile summary is in {results}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    config = build_config(args)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.profile:
        try:
            return run_profile(config)
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    started = time.monotonic()
    sections = run_sections(config, wanted(args.only))
    seconds = time.monotonic() - started
    machine = describe()
    figures = [f for s in sections for f in s.figures]
    print("\n" + report.table_text(figures))
    for note in (n for s in sections for n in s.notes):
        print(f"- {note}")
    results, png = config.out / "results.json", config.out / "chart.png"
    report.write_results(results, report.results_document(config, machine, sections, seconds))
    chart.draw(sections, png)
    print(f"\nbench: {seconds / 60:.1f} min; wrote {results} and {png}")
    if not config.smoke and not args.only:
        chart_link = os.path.relpath(png, args.readme.resolve().parent)
        report.rewrite_readme(args.readme, report.readme_block(config, machine, sections, seconds, chart_link))
        print(f"bench: rewrote the benchmark block of {args.readme}")
    failed = [s.name for s in sections if s.error]
    if failed:
        print(f"bench: FAILED: {', '.join(failed)} (each is a MISS line; the errors are in {results})",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
