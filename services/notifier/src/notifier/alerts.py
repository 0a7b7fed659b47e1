"""Telling the ADMINS (the tutorial's list) when messages are dead-lettered, without flooding them.

Dead letters are counted by their failure kind. The first alert goes out a short gathering
delay after the first dead letter (so a burst is one mail), later ones at most once per
`interval`, each naming how many messages were dead-lettered and why.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

import structlog

from notifier.errors import NotifierError
from notifier.mime import Sender, build_plain
from notifier.transport import Transport

log = structlog.get_logger("notifier.alerts")

#: How long the first alert after a quiet spell waits for more dead letters to gather.
GATHER_SECONDS = 60.0


class DeadLetterAlerts:
    """Counts dead letters by failure kind; a thread of its own mails the counts when due."""

    def __init__(
        self,
        *,
        admins: list[str],
        sender: Sender,
        transport_factory: Callable[[], Transport],
        interval: timedelta,
        queue_name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.admins = admins
        # ADMINS may say `Name <addr>`; the envelope and the To header want the address.
        self.recipients = [parseaddr(admin)[1] for admin in admins]
        self.sender = sender
        self.interval = interval.total_seconds()
        self.gather = min(self.interval, GATHER_SECONDS)
        self.queue_name = queue_name
        self._transport_factory = transport_factory
        self._clock = clock
        self._counts: Counter[str] = Counter()
        self._first_pending: float | None = None
        self._last_sent: float | None = None
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="dead-letter-alerts", daemon=True)
        self.mails_sent = 0

    def record(self, failure_kind: str) -> None:
        """Count one dead letter of `failure_kind`."""
        with self._cond:
            self._counts[failure_kind] += 1
            if self._first_pending is None:
                self._first_pending = self._clock()
                self._cond.notify()

    @property
    def pending(self) -> int:
        """Dead letters counted and not yet told."""
        with self._cond:
            return sum(self._counts.values())

    def due_at(self) -> float | None:
        """When the next alert may go out (clock time), or None with nothing to tell."""
        with self._cond:
            if self._first_pending is None:
                return None
            due = self._first_pending + self.gather
            if self._last_sent is not None:
                due = max(due, self._last_sent + self.interval)
            return due

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then tell what is still counted, due or not."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(10)
        self.send(force=True)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                due = self.due_at()
                wait = None if due is None else max(0.0, due - self._clock())
                if wait is None or wait > 0:
                    self._cond.wait(wait)
                    continue
            self.send()

    def send(self, *, force: bool = False) -> bool:
        """Mail the counts if an alert is due (or `force`); True if a mail went out.

        Never raises: an alert that cannot go is logged and its counts kept for the next one.
        """
        due = self.due_at()
        if due is None or (not force and self._clock() < due):
            return False
        with self._cond:
            counts, self._counts = self._counts, Counter()
            self._first_pending = None
            self._last_sent = self._clock()
        try:
            sent = self._mail(counts)
        except Exception as exc:
            log.exception("dead_letter_alert_crashed", error=repr(exc))
            sent = False
        if not sent and self.admins:
            with self._cond:
                self._counts.update(counts)  # tell them next time
                self._first_pending = self._first_pending or self._clock()
        return sent

    def _mail(self, counts: Counter[str]) -> bool:
        total = sum(counts.values())
        if not self.admins:
            log.warning("dead_letters", count=total, reasons=dict(counts), alert="no ADMINS to tell")
            return False
        lines = [f"  {n:6d}  {kind}" for kind, n in counts.most_common()]
        text = (
            f"{total} message(s) were moved to the dead-letter queue {self.queue_name}\n"
            "since the last alert, by reason:\n\n" + "\n".join(lines) +
            "\n\nSee them with `notifier dlq list`; once the cause is fixed, send them with\n"
            "`notifier dlq replay`.\n"
        )
        now = datetime.now(UTC)
        transport = self._transport_factory()
        try:
            message = build_plain(
                sender=self.sender, recipients=self.recipients,
                subject=f"[microblog] {total} notification(s) dead-lettered",
                text=text, message_id=f"<dlq-alert.{now.timestamp():.0f}@{self.sender.address.rsplit('@', 1)[1]}>",
                date=now,
            )
            transport.send(self.sender.address, self.recipients, message)
        except NotifierError as exc:
            log.error("dead_letter_alert_failed", error=str(exc), count=total)
            return False
        finally:
            transport.close()
        self.mails_sent += 1
        log.info("dead_letter_alert_sent", count=total, admins=len(self.admins))
        return True


