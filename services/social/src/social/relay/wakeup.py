"""How the relay learns there is something new to publish.

On PostgreSQL the writer's transaction sends `NOTIFY social_outbox`, delivered at commit, and
the relay LISTENs: a new event goes out within milliseconds. Under a steady stream of follows
the relay lets at least `min_interval` (10 ms) pass between two wake-ups, so the events of that
window go out as one batch: each batch costs a transaction and a confirm round trip, and this
bounds how many the relay makes however fast follows come. Elsewhere (SQLite) the relay polls,
every `poll_interval` seconds (50 ms by default): a cheap query on a partial index.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.engine import URL

if TYPE_CHECKING:
    import psycopg

log = structlog.get_logger("social.relay.wakeup")


class Wakeup:
    """Wait until there may be new events, at most `poll_interval` seconds."""

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval
        self._interrupted = threading.Event()

    def wait(self) -> None:
        self._interrupted.wait(self.poll_interval)

    def interrupt(self) -> None:
        """End the wait in progress, and make every later one return at once (the relay is stopping)."""
        self._interrupted.set()

    def close(self) -> None:
        pass


class PostgresWakeup(Wakeup):
    """LISTENs on the outbox channel; falls back to polling while the listener is down."""

    def __init__(self, url: URL, channel: str, poll_interval: float, fallback_interval: float = 1.0,
                 min_interval: float = 0.01) -> None:
        super().__init__(poll_interval)
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.fallback_interval = max(fallback_interval, poll_interval)
        self.min_interval = min_interval
        self._last_wake = 0.0
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        # A NOTIFY wait is a wait on the connection's socket: `interrupt` writes to the other end
        # of this pair, which the same `select` watches. Made by the first wait, closed by `close`.
        self._waker: tuple[socket.socket, socket.socket] | None = None

    def interrupt(self) -> None:
        super().interrupt()
        waker = self._waker
        if waker is not None:
            with contextlib.suppress(OSError):  # already closed, or already woken
                waker[1].send(b"\0")

    def _listen(self) -> psycopg.Connection[tuple[object, ...]] | None:
        import psycopg  # only PostgreSQL deployments need the driver

        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)
                self._conn.execute(f"LISTEN {self.channel}")
            except psycopg.Error as exc:
                log.warning("listen_failed", error=str(exc).strip()[:200])
                self._conn = None
        return self._conn

    def wait(self) -> None:
        import psycopg

        if self._waker is None:
            reader, writer = socket.socketpair()
            writer.setblocking(False)
            self._waker = (reader, writer)
        conn = self._listen()
        if conn is None or self._interrupted.is_set():
            super().wait()
            return
        try:
            select.select([conn.fileno(), self._waker[0].fileno()], [], [], self.fallback_interval)
            # The first event after a quiet spell goes at once; in a stream, the rest of the
            # window gathers more. Then drain the NOTIFYs that piled up: one batch covers them all.
            gather = self.min_interval - (time.monotonic() - self._last_wake)
            if gather > 0:
                self._interrupted.wait(gather)  # returns at once when the relay is stopping
            for _ in conn.notifies(timeout=0):
                pass
        except psycopg.Error:
            conn.close()
        self._last_wake = time.monotonic()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._waker is not None:
            for end in self._waker:
                end.close()
