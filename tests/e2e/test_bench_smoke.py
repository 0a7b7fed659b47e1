"""`python -m bench --smoke`: every measurement `make bench` makes runs end to end at tiny sizes
and writes its numbers and chart, without touching the README.

The fast SMTP server is Postfix's smtp-sink. On a machine without it (`bench/ensure-tools`
installs it for `make bench`), the run is made with the documented `--fast-sink aiosmtpd`
option instead, and says so in a warning and in results.json: it is never skipped.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

#: A minute of measuring: part of `make test`, left out of the quick loop.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("latency", "drain_fast", "drain_slow", "e2e", "relay", "memory", "scale", "storm", "cluster", "render",
            "announce", "startup")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fast_sink_option() -> list[str]:
    if shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists():
        return []
    warnings.warn("smtp-sink is not installed (bench/ensure-tools installs it): the bench smoke run uses "
                  "--fast-sink aiosmtpd", stacklevel=2)
    return ["--fast-sink", "aiosmtpd"]


def bench_block(readme: str) -> str:
    return readme[readme.find("<!-- bench:start -->"): readme.find("<!-- bench:end -->")]


def test_the_smoke_run_measures_every_section_and_draws_the_chart(tmp_path: Path) -> None:
    readme_block = bench_block((ROOT / "README.md").read_text())
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path), *fast_sink_option()],
                          cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, f"{done.stdout[-5000:]}\n{done.stderr[-5000:]}"

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["smoke"] is True
    for name in SECTIONS:
        section = results["sections"][name]
        assert section["runs"], f"{name} has no runs"
        assert section["figures"], f"{name} has no figures"
        for figure in section["figures"]:
            ours = figure["ours"]
            assert isinstance(ours, int | float) and math.isfinite(ours), f"{name}: {figure['what']} is {ours!r}"
            assert figure["mark"] in ("PASS", "MISS", "info")
    assert (tmp_path / "chart.png").read_bytes()[:8] == PNG_SIGNATURE
    assert bench_block((ROOT / "README.md").read_text()) == readme_block, "a smoke run must not touch the README"
