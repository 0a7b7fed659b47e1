"""How the relay learns there is something new to publish.

On PostgreSQL the writer's transaction sends `NOTIFY social_outbox`, delivered at commit, and
the relay LISTENs: a new event goes out within milliseconds. Elsewhere (SQLite) the relay
polls, every `poll_interval` seconds (50 ms by default): a cheap query on a partial index.
"""

from __future__ import annotations

import threading
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
        self._interrupt = threading.Event()

    def wait(self) -> None:
        self._interrupt.wait(self.poll_interval)

    def interrupt(self) -> None:
        self._interrupt.set()

    def close(self) -> None:
        pass


class PostgresWakeup(Wakeup):
    """LISTENs on the outbox channel; falls back to polling while the listener is down."""

    def __init__(self, url: URL, channel: str, poll_interval: float, fallback_interval: float = 1.0) -> None:
        super().__init__(poll_interval)
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.fallback_interval = max(fallback_interval, poll_interval)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

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

        conn = self._listen()
        if conn is None or self._interrupt.is_set():
            super().wait()
            return
        try:
            for _ in conn.notifies(timeout=self.fallback_interval, stop_after=1):
                break
            # Drain the NOTIFYs that piled up: one batch covers them all.
            for _ in conn.notifies(timeout=0):
                pass
        except psycopg.Error:
            conn.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
