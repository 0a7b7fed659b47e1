"""The relay's housekeeping: about every five minutes, what the outbox keeps of people is cut to
what the privacy rules allow (:mod:`social.outbox.retention`: a deleted user's published events
erased, addresses dropped from events older than OUTBOX_RETENTION) and ended rate limit windows go
(:func:`social.limitstore.prune_counters`). `social outbox prune` does the same from the command
line; both are safe to run at once, from any number of processes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from microblog_plumbing.databases import database_error
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social.limitstore import prune_counters
from social.outbox.retention import prune_outbox

log = structlog.get_logger("social.relay")

#: How often the relay prunes.
PRUNE_INTERVAL = timedelta(minutes=5)


class OutboxPruner:
    """Prunes when :meth:`prune_if_due` is called and the interval has passed since the last pass
    (the first call prunes at once: a relay that restarts often still prunes)."""

    def __init__(self, engine: Engine, *, retention: timedelta, clock: Callable[[], datetime],
                 interval: timedelta = PRUNE_INTERVAL) -> None:
        self._engine = engine
        self._retention = retention
        self._clock = clock
        self._interval = interval
        self._next: datetime | None = None

    def prune_if_due(self) -> bool:
        """Prune if it is time; True if a pass ran (whatever it found). A database that fails is
        logged and tried again at the next interval: pruning never stops the relay."""
        now = self._clock()
        if self._next is not None and now < self._next:
            return False
        self._next = now + self._interval
        try:
            pruned = prune_outbox(self._engine, retention=self._retention, now=now)
            counters = prune_counters(self._engine)
        except SQLAlchemyError as exc:
            log.warning("outbox_prune_failed", error=database_error(exc),
                        retry_in_seconds=self._interval.total_seconds())
            return True
        if pruned.erased or pruned.addresses_dropped or counters:
            log.info("outbox_pruned", erased=pruned.erased, addresses_dropped=pruned.addresses_dropped,
                     rate_limit_windows=counters)
        return True
