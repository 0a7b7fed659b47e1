"""How many SMTP sessions the notifier sends on at once: found by feedback, bounded by
MAIL_MAX_CONNECTIONS, the way Postfix's scheduler finds a destination's concurrency.

Slow start: from a few sessions, the count doubles after each step (a quarter of a second, and at
least two rounds of `limit` mails) in which work waited in the queue all along and the mails went
out faster than in the step before, by at least half of what the added sessions could give. A step
that did not (the server's pace or this process's CPU is the limit: more sessions would only wait)
goes back to the count before it and holds it for `probe_after`.

Push-back (a 421, a refused connection, a timeout: :class:`~notifier.errors.SmtpCongested`) halves
the count, and the count that drew it is not tried again for `probe_after`: the limit settles under
what the server takes instead of knocking at it every few seconds. Push-back while nothing gets
through (the server down, not crowded) halves it again but is not remembered, so the limit grows
back as soon as the server answers. After a halving, growth is one session a step. A session idle
for a while hands its place back, so the limit follows the work: a quiet notifier keeps few open.

Worker `i` sends while `i < limit`; the ones above it wait with their sessions closed, so the
sessions open at the server are never more than the limit (plus the ones finishing a mail).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notifier.errors import SmtpCongested

if TYPE_CHECKING:
    from notifier.transport import Transport

#: Sessions at start: Postfix starts a destination at 5; a small server is not flooded first thing.
INITIAL = 4
#: How long a count that drew push-back, or that sent no faster, is not tried again (seconds).
PROBE_AFTER = 60.0
#: The shortest step between two changes of the count (seconds); a step also lasts two rounds.
STEP_SECONDS = 0.25
#: The share of the added sessions' mail a step must gain to count as faster (doubling: 1.5x).
GAIN = 0.5


@dataclass(frozen=True, slots=True)
class Ticket:
    """When a send started: the limit's generation (a push-back halves it once per generation) and
    the limit then."""

    generation: int
    limit: int


class Concurrency:
    """The number of SMTP sessions to use now, between 1 and `ceiling`. Thread-safe.

    `adaptive=False` keeps `ceiling` sessions whatever happens (a server whose limits are known).
    """

    def __init__(self, ceiling: int, *, adaptive: bool = True, initial: int = INITIAL,
                 probe_after: float = PROBE_AFTER, clock: Callable[[], float] = time.monotonic) -> None:
        if ceiling < 1:
            raise ValueError("the ceiling of SMTP sessions is at least 1")
        self.ceiling = ceiling
        self.adaptive = adaptive
        self.probe_after = probe_after
        self._clock = clock
        self._floor = min(ceiling, initial)  # idle sessions hand their places back down to it
        self._window = float(self._floor if adaptive else ceiling)
        self._threshold = float(ceiling)  # slow start below it, additive growth above
        self._too_many = ceiling + 1  # the count that drew push-back last ...
        self._too_many_until = -math.inf  # ... and until when it is not tried again
        self._generation = 0
        self._taken_since_cut = 0  # mails taken since the last halving: none means an outage, not a crowd
        self._step_start = clock()
        self._step_taken = 0
        self._step_waited = True  # work waited at every mail of this step
        self._step_half: tuple[float, int] | None = None  # when its second half began, with the mails by then
        self._before: tuple[int, float] | None = None  # the step before: its count, its mails a second
        self._hold_until = -math.inf  # no growth before then: more sessions sent no faster
        self._cond = threading.Condition()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def limit(self) -> int:
        """Sessions that may send now."""
        return int(self._window)

    @property
    def cap(self) -> int:
        """The most the limit may grow to now: the ceiling, or less while push-back is remembered."""
        if self._clock() < self._too_many_until:
            return max(1, min(self.ceiling, self._too_many - 1))
        return self.ceiling

    def ticket(self) -> Ticket:
        """Take before a send; hand it to :meth:`congested` if the server pushes back."""
        with self._cond:
            return Ticket(self._generation, self.limit)

    # -- feedback --------------------------------------------------------------------------------

    def succeeded(self, *, backlog: bool) -> None:
        """The server took a mail; `backlog`: work waits meanwhile. At the end of a step in which
        work waited all along, grow (double in slow start, one more after push-back, never above
        :attr:`cap`) if the step sent faster than the one before; if not, step back and hold."""
        if not self.adaptive:
            return
        with self._cond:
            self._taken_since_cut += 1
            self._step_taken += 1
            self._step_waited = self._step_waited and backlog
            now = self._clock()
            elapsed = now - self._step_start
            if self._step_half is None:
                if elapsed >= STEP_SECONDS / 2 and self._step_taken >= self.limit:
                    self._step_half = (now, self._step_taken)
                return
            # The rate of the second half only: the first takes the burst the step began with and
            # the new sessions' connecting.
            half_at, half_taken = self._step_half
            if elapsed < STEP_SECONDS or self._step_taken < 2 * self.limit or now <= half_at:
                return
            limit, rate, waited = self.limit, (self._step_taken - half_taken) / (now - half_at), self._step_waited
            self._new_step()
            if not waited:
                self._before = None  # the work set the pace, not the sessions: nothing learnt
                return
            before = self._before
            if before is not None and limit > before[0] and rate < before[1] * (1 + GAIN * (limit / before[0] - 1)):
                # More sessions, hardly more mail: what limits is elsewhere (the server's pace, our
                # CPU). Back to the count before, and no growth for a while.
                self._window = float(before[0])
                self._hold_until = now + self.probe_after
                self._before = None
                return
            if now < self._hold_until:
                return
            self._before = (limit, rate)
            grown = 2 * limit if self._window < self._threshold else limit + 1
            self._window = float(max(limit, min(self.cap, grown)))
            if self.limit > limit:
                self._cond.notify_all()

    def _new_step(self) -> None:
        self._step_start = self._clock()
        self._step_taken = 0
        self._step_waited = True
        self._step_half = None

    def congested(self, started: Ticket) -> bool:
        """The server pushed back on a send that began at `started`: halve the limit, once a
        generation (the other sends of that generation were crowded by the same count). True when
        the send may have been crowded out (the limit was above one), so a retry at once is fair."""
        if not self.adaptive:
            return False
        with self._cond:
            if started.generation == self._generation:
                self._generation += 1
                if self._taken_since_cut:  # others got through meanwhile: this many is too many
                    self._too_many = self.limit
                    self._too_many_until = self._clock() + self.probe_after
                self._taken_since_cut = 0
                self._window = max(1.0, float(self.limit // 2))
                self._threshold = self._window
                self._before = None
                self._new_step()
            return started.limit > 1

    def idle(self, worker: int) -> bool:
        """Worker `worker` found no work for a while: the topmost one hands its place back (the
        limit shrinks by one, not below the start). True if it should now wait, its session closed."""
        if not self.adaptive:
            return False
        with self._cond:
            if worker == self.limit - 1 and self.limit > self._floor:
                self._window = float(self.limit - 1)
                self._before = None
                self._new_step()
                self._threshold = max(self._threshold, self._window)
            return worker >= self.limit

    # -- taking turns ----------------------------------------------------------------------------

    def may_send(self, worker: int) -> bool:
        """Whether worker `worker` (counted from 0) is within the limit."""
        return worker < self.limit

    def wait_turn(self, worker: int, closing: threading.Event, *, poll: float = 0.5) -> None:
        """Block while worker `worker` is above the limit; return at once when `closing` is set."""
        with self._cond:
            while worker >= self.limit and not closing.is_set():
                self._cond.wait(poll)

    def wake_all(self) -> None:
        """Wake every waiting worker (the consumer is closing)."""
        with self._cond:
            self._cond.notify_all()


class WatchedTransport:
    """A worker's SMTP session that tells the limit how each send went: a mail taken (and whether
    work waits meanwhile), or push-back. `crowded` says whether the last push-back may have been
    the crowd's doing (then the worker tries the mail again at once, rather than after a delay)."""

    def __init__(self, inner: Transport, concurrency: Concurrency, backlog: Callable[[], bool]) -> None:
        self.inner = inner
        self.concurrency = concurrency
        self.backlog = backlog
        self.crowded = False

    def send(self, sender: str, recipients: list[str], message: bytes) -> str:
        ticket = self.concurrency.ticket()
        try:
            reply = self.inner.send(sender, recipients, message)
        except SmtpCongested:
            self.crowded = self.concurrency.congested(ticket)
            raise
        self.concurrency.succeeded(backlog=self.backlog())
        return reply

    def close(self) -> None:
        self.inner.close()
