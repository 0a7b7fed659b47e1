"""Running our command-line tools as an operator would, and reading what they say."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from tests.support.processes import BIN


@dataclass
class Ran:
    code: int
    out: str
    err: str


def run_cli(args: list[str], env: dict[str, str], *, input_text: str | None = None, timeout: float = 120) -> Ran:
    """Run `args` (e.g. ["notifier", "dlq", "list"]) to completion with `env` added."""
    done = subprocess.run([str(BIN / args[0]), *args[1:]], env={**os.environ, **env}, capture_output=True,
                          text=True, input=input_text, timeout=timeout, check=False)
    return Ran(done.returncode, done.stdout, done.stderr)
