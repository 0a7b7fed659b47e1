"""Telling the ADMINS (the tutorial's list) when messages are dead-lettered: at most one mail
per interval, naming how many and why."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

import structlog

from notifier.errors import NotifierError
from notifier.mime import Sender, build_plain
from notifier.transport import SmtpTransport

log = structlog.get_logger("notifier.alerts")


def _reason_class(reason: str) -> str:
    """Group reasons by their kind (the part before the first colon), not their details."""
    return reason.split(":", 1)[0][:120] or "unknown"


class DeadLetterAlerts:
    """Counts dead letters by reason; a background thread mails a summary each interval."""

    def __init__(
        self,
        *,
        admins: list[str],
        sender: Sender,
        transport_factory: Callable[[], SmtpTransport],
        interval: timedelta,
        queue_name: str,
    ) -> None:
        self.admins = admins
        # ADMINS may say `Name <addr>`; the envelope and the To header want the address.
        self.recipients = [parseaddr(admin)[1] for admin in admins]
        self.sender = sender
        self.interval = interval
        self.queue_name = queue_name
        self._transport_factory = transport_factory
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dead-letter-alerts", daemon=True)
        self.mails_sent = 0

    def record(self, reason: str) -> None:
        with self._lock:
            self._counts[_reason_class(reason)] += 1

    def start(self) -> DeadLetterAlerts:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval.total_seconds()):
            self.send_pending()

    def send_pending(self) -> bool:
        """Mail the counts gathered since the last alert, if any. True if a mail went out.

        Never raises: an alert that cannot go is logged and its counts kept for the next one.
        """
        try:
            return self._send_pending()
        except Exception as exc:
            log.exception("dead_letter_alert_crashed", error=repr(exc))
            return False

    def _send_pending(self) -> bool:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return False
        total = sum(counts.values())
        if not self.admins:
            log.warning("dead_letters", count=total, reasons=dict(counts), alert="no ADMINS to tell")
            return False
        lines = [f"  {n:6d}  {reason}" for reason, n in counts.most_common()]
        text = (
            f"{total} message(s) were moved to the dead-letter queue {self.queue_name}\n"
            f"in the last {self.interval} or so, by reason:\n\n" + "\n".join(lines) +
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
        except (NotifierError, ValueError) as exc:
            log.error("dead_letter_alert_failed", error=str(exc), count=total)
            with self._lock:
                self._counts.update(counts)  # tell them next time
            return False
        finally:
            transport.close()
        self.mails_sent += 1
        log.info("dead_letter_alert_sent", count=total, admins=len(self.admins))
        return True
