"""SIGTERM and SIGINT stop the relay, the notifier and a replay from a thread of their own."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator

import pytest
from notifier.signals import on_stop_signals as notifier_on_stop_signals
from social.signals import on_stop_signals as social_on_stop_signals

Installer = Callable[..., None]


@pytest.fixture(params=[social_on_stop_signals, notifier_on_stop_signals], ids=["social", "notifier"])
def on_stop_signals(request: pytest.FixtureRequest) -> Iterator[Installer]:
    previous = signal.getsignal(signal.SIGUSR1)
    yield request.param
    signal.signal(signal.SIGUSR1, previous)


def test_each_signal_calls_stop_with_its_name_off_the_main_thread(on_stop_signals: Installer) -> None:
    called: list[tuple[str, str]] = []
    done = threading.Event()

    def stop(name: str) -> None:
        called.append((name, threading.current_thread().name))
        done.set()

    on_stop_signals(stop, (signal.SIGUSR1,))
    os.kill(os.getpid(), signal.SIGUSR1)
    assert done.wait(10)
    assert called == [("SIGUSR1", "stop-signals")]


def test_a_stop_that_sets_the_event_the_main_thread_is_waiting_on_never_deadlocks(
    on_stop_signals: Installer,
) -> None:
    # Setting an Event from a plain signal handler deadlocks when the signal lands while the main
    # thread is inside that Event's wait (it holds the Event's lock): the relay hung this way on
    # SIGTERM in CI. Here the main thread waits as the relay polls, at its tightest, 300 times.
    wake = threading.Event()
    calls: list[str] = []

    def stop(name: str) -> None:
        calls.append(name)
        wake.set()

    on_stop_signals(stop, (signal.SIGUSR1,))
    for _ in range(300):
        wake.clear()
        os.kill(os.getpid(), signal.SIGUSR1)
        while not wake.wait(0.0001):
            pass
    assert calls == ["SIGUSR1"] * 300
