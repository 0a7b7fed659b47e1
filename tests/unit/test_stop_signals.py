"""SIGTERM and SIGINT stop a process (the relay, the notifier, a replay) from a thread of their own.

Both services install `microblog_plumbing.signals.on_stop_signals`, so it is tested once, here.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest
from microblog_plumbing.signals import on_stop_signals


@pytest.fixture(autouse=True)
def _sigusr1_restored() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGUSR1)
    yield
    signal.signal(signal.SIGUSR1, previous)


def test_each_signal_calls_stop_with_its_name_off_the_main_thread() -> None:
    called: list[tuple[str, str]] = []
    done = threading.Event()

    def stop(name: str) -> None:
        called.append((name, threading.current_thread().name))
        done.set()

    on_stop_signals(stop, (signal.SIGUSR1,))
    os.kill(os.getpid(), signal.SIGUSR1)
    assert done.wait(10)
    assert called == [("SIGUSR1", "stop-signals")]


@pytest.mark.timeout(10)  # a deadlock is what this test looks for: fail in 10 s, not hang
def test_a_stop_that_sets_the_event_the_main_thread_holds_does_not_deadlock() -> None:
    # The relay hung on SIGTERM in CI: its handler set the Event the main thread polls with
    # `wait`, and the signal had landed while the main thread held that Event's lock. Here the
    # signal lands exactly there; a handler that sets the Event itself deadlocks in this spot.
    wake = threading.Event()
    on_stop_signals(lambda _name: wake.set(), (signal.SIGUSR1,))
    with wake._cond:  # where Event.wait holds it
        os.kill(os.getpid(), signal.SIGUSR1)
        for _ in range(1000):  # bytecodes to run the Python-level handler on, lock still held
            pass
    assert wake.wait(5)
