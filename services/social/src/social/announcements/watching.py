"""Showing an announcement's progress until it is over: a progress bar on a terminal, elsewhere
(a log, a pipe) a plain line every few seconds, without control codes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

import click

from social.announcements.progress import Progress

#: Seconds between two plain progress lines.
PLAIN_LINE_EVERY = 5.0


def watch(
    read: Callable[[], Progress], *, out: TextIO, interactive: bool, interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
) -> Progress:
    """Read the progress every `interval` seconds and show it on `out` until every recipient is
    reported or the announcement is cancelled; returns the last one read. Ctrl-C
    (KeyboardInterrupt) is the caller's to handle: it stops the watching, nothing else."""
    if interactive:
        return _bar(read, out, interval, sleep)
    return _lines(read, out, interval, sleep, clock)


def _lines(
    read: Callable[[], Progress], out: TextIO, interval: float, sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> Progress:
    shown_at: float | None = None
    while True:
        progress = read()
        if progress.over or shown_at is None or clock() - shown_at >= PLAIN_LINE_EVERY:
            out.write(progress.summary() + "\n")
            out.flush()
            shown_at = clock()
        if progress.over:
            return progress
        sleep(interval)


def _bar(read: Callable[[], Progress], out: TextIO, interval: float, sleep: Callable[[float], None]) -> Progress:
    progress = read()
    with click.progressbar(length=progress.recipients, label="sending", file=out, show_pos=True,
                           item_show_func=_counts) as bar:
        shown = 0
        while True:
            bar.update(max(0, progress.reported - shown), progress)
            shown = progress.reported
            if progress.over:
                return progress
            sleep(interval)
            progress = read()


def _counts(progress: Progress | None) -> str | None:
    return progress.summary() if progress else None
