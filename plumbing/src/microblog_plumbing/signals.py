"""Stopping on SIGTERM/SIGINT without deadlocking.

A Python signal handler runs in the main thread between two bytecodes of whatever it was doing.
If that was inside `threading.Event.wait` (a relay's poll, a consumer's reconnect wait) or writing
a log line, the main thread holds a non-reentrant lock, and a handler that sets the same Event or
logs waits for it forever. So the handler only writes the signal's number to a pipe, which takes
no Python lock, and a thread of its own reads it and does the stopping.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType


def on_stop_signals(stop: Callable[[str], None], signals: tuple[signal.Signals, ...] = (
        signal.SIGTERM, signal.SIGINT)) -> None:
    """Call `stop(signal name)` on a thread of its own for each of `signals` that arrives.
    Install from the main thread."""
    read_end, write_end = os.pipe()

    def handler(signum: int, _frame: FrameType | None) -> None:
        os.write(write_end, bytes([signum]))

    def watch() -> None:
        while data := os.read(read_end, 1):
            stop(signal.Signals(data[0]).name)

    threading.Thread(target=watch, name="stop-signals", daemon=True).start()
    for signum in signals:
        signal.signal(signum, handler)
