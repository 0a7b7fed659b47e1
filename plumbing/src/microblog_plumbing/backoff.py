"""The one reconnect and retry policy: a capped delay that doubles after each failure and starts
over after a success, kept apart from the code that connects (pika's examples do the same)."""

from __future__ import annotations

import random


class Backoff:
    """Delays of `initial`, 2x, 4x ... up to `cap` seconds, each spread by ±20%."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.cap = cap
        self._rng = rng or random.Random()
        self._next = initial

    def next_delay(self) -> float:
        """The delay to wait now; the next one will be twice as long, up to the cap."""
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay * self._rng.uniform(0.8, 1.2)

    def reset(self) -> None:
        """After a success: the next failure waits `initial` again."""
        self._next = self.initial
