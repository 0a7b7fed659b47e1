"""How fast bulk mail goes: MAIL_RATE_LIMIT shared by every replica, and after urgent mail.

The rate is a GCRA over the notifier's database: a sender reserves a small block of send times
(about a quarter of a second's worth) in one statement, then sends each at its time, so the whole
deployment keeps to the rate however many replicas and threads share it. Urgent mail (everything
the work queue carries: a password reset, a follow notice) goes first: a bulk sender waits while
every worker of its replica is busy with it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from notifier.ledger.announcements import SqlAnnouncements


class SharedRate:
    """At most `rate` sends a second over every replica sharing the database."""

    def __init__(self, store: SqlAnnouncements, rate: float, *, name: str = "bulk",
                 clock: Callable[[], float] = time.time) -> None:
        if rate <= 0:
            raise ValueError("a rate limit must be positive (leave it out for none)")
        self.store = store
        self.rate = rate
        self.name = name
        self.clock = clock
        #: Send times reserved at once: a quarter of a second's worth, between 1 and 50.
        self.block = max(1, min(50, math.ceil(rate / 4)))
        self._local = threading.local()

    def wait_turn(self, stop: threading.Event) -> bool:
        """Wait for this thread's next send time; False if `stop` was set meanwhile."""
        slots: deque[float] | None = getattr(self._local, "slots", None)
        if not slots:
            first = self.store.take_slots(self.name, self.rate, self.block, self.clock())
            slots = deque(first + i / self.rate for i in range(self.block))
            self._local.slots = slots
        delay = slots.popleft() - self.clock()
        if delay > 0:
            stop.wait(delay)
        return not stop.is_set()


class UrgentWork:
    """Mail of the work queue in hand in this replica; bulk senders wait while it fills every worker
    (`workers`: a number, or what says how many SMTP sessions the work queue may use now)."""

    def __init__(self, workers: int | Callable[[], int]) -> None:
        self._workers = workers
        self._busy = 0
        self._cond = threading.Condition()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    @property
    def workers(self) -> int:
        return max(1, self._workers() if callable(self._workers) else self._workers)

    @property
    def busy(self) -> int:
        return self._busy

    def wait_for_room(self, stop: threading.Event, *, longest: float = 5.0) -> None:
        """Wait while every worker is busy with urgent mail (at most `longest` seconds at a time,
        so bulk mail is slowed by a flood of urgent mail, never stopped for good)."""
        deadline = time.monotonic() + longest
        with self._cond:
            while self._busy >= self.workers and not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(min(left, 0.1))
