"""A scratch directory per measurement run: SQLite files, process logs. Kept when a run fails."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch(label: str) -> Iterator[Path]:
    """A fresh temp directory; removed after a clean run, kept (and named) after a failure."""
    path = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    try:
        yield path
    except BaseException:
        print(f"bench: {label} failed; its logs are kept in {path}", flush=True)
        raise
    shutil.rmtree(path, ignore_errors=True)
