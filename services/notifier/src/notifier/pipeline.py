"""What happens to one event: read it, check the ledger and the cooldown, render, send.

The pipeline decides an :class:`Outcome`; it never talks to the broker. The consumer (and the
replay commands) turn outcomes into acks, retries and dead letters.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from microblog_contracts import EventDecodeError, UserFollowed, decode_event

from notifier.errors import NotifierError, PermanentError, TransientError
from notifier.ledger import DeliveryKey, DeliveryRecord, FollowNotice, Ledger, LedgerWriter
from notifier.mime import Sender, build_alternative, message_id_for
from notifier.render import MailRenderer
from notifier.transport import SmtpTransport

FOLLOWER_EMAIL = "follower_email"


class Outcome(enum.StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # the ledger says this mail already went out: folded
    SUPPRESSED = "suppressed"  # a re-follow inside the cooldown
    RETRY = "retry"  # a transient failure: try again later
    DEAD = "dead"  # cannot succeed: dead-letter it


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome for one message, with what the logs and the dead-letter headers need."""

    outcome: Outcome
    event_id: str | None = None
    recipient_domain: str | None = None
    reason: str | None = None
    smtp_reply: str | None = None
    render_seconds: float = 0.0
    smtp_seconds: float = 0.0
    event_time: datetime | None = None


Settled = Callable[[Result], None]


class _Inflight:
    """Keys being processed in this process: a second claim of a key waits for the first."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._cond = threading.Condition()

    def claim(self, key: str) -> None:
        with self._cond:
            while key in self._ids:
                self._cond.wait()
            self._ids.add(key)

    def release(self, key: str) -> None:
        with self._cond:
            self._ids.discard(key)
            self._cond.notify_all()


class FollowerMailPipeline:
    """Turns a `user.followed` message body into a sent mail, or says why not."""

    def __init__(
        self,
        *,
        renderer: MailRenderer,
        ledger: Ledger,
        writer: LedgerWriter,
        sender: Sender,
        cooldown: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.renderer = renderer
        self.ledger = ledger
        self.writer = writer
        self.sender = sender
        self.cooldown = cooldown
        self.clock = clock
        self.message_id_domain = sender.address.rsplit("@", 1)[1]
        self._inflight = _Inflight()

    def process(self, body: bytes, transport: SmtpTransport, on_settled: Settled, *, resend: bool = False) -> None:
        """Handle one message body; `on_settled` gets the result once it is final.

        For a sent mail that is after the ledger committed it; for anything else, at once.
        `resend` skips the ledger and cooldown checks (an operator's deliberate replay).
        """
        try:
            event = decode_event(body)
        except EventDecodeError as exc:
            on_settled(Result(Outcome.DEAD, reason=f"unreadable: {exc}"))
            return
        if not isinstance(event, UserFollowed):
            on_settled(Result(Outcome.DEAD, event_id=event.id, reason=f"unhandled event type {event.type}"))
            return
        # One at a time per pair of users: a second copy of the event, or a re-follow, waits
        # here and then finds the first one's ledger record (or cooldown) instead of mailing.
        pair = f"{event.data.follower.id}:{event.data.followed.id}"
        self._inflight.claim(pair)
        try:
            self._process(event, transport, on_settled, resend=resend)
        finally:
            self._inflight.release(pair)

    def _process(self, event: UserFollowed, transport: SmtpTransport, on_settled: Settled, *, resend: bool) -> None:
        data = event.data
        recipient = str(data.followed.email).lower()
        outcome_of = partial(Result, event_id=event.id, recipient_domain=recipient.rsplit("@", 1)[-1],
                             event_time=event.time)
        key = DeliveryKey(event.id, recipient, FOLLOWER_EMAIL)
        try:
            if not resend:
                known = self.ledger.lookup(key, data.follower.id, data.followed.id)
                if known.delivered:
                    on_settled(outcome_of(Outcome.DUPLICATE))
                    return
                last = known.notice
                refollow = last is not None and last.event_id != event.id
                if last is not None and refollow and abs(data.followed_at - last.followed_at) < self.cooldown:
                    on_settled(outcome_of(Outcome.SUPPRESSED, reason=f"mailed {last.event_id} within the cooldown"))
                    return
            started = time.perf_counter()
            mail = self.renderer.follower_email(event)
            message_id = message_id_for(event.id, FOLLOWER_EMAIL, self.message_id_domain)
            message = build_alternative(
                sender=self.sender, recipient=recipient, subject=mail.subject, text=mail.text, html=mail.html,
                message_id=message_id, date=self.clock(),
            )
            rendered = time.perf_counter()
            reply = transport.send(self.sender.address, [recipient], message)
            sent = time.perf_counter()
        except TransientError as exc:
            on_settled(outcome_of(Outcome.RETRY, reason=_reason(exc)))
            return
        except PermanentError as exc:
            on_settled(outcome_of(Outcome.DEAD, reason=_reason(exc)))
            return
        record = DeliveryRecord(
            key=key,
            message_id=message_id,
            delivered_at=self.clock(),
            notice=FollowNotice(data.follower.id, data.followed.id, event.id, data.followed_at),
        )
        result = outcome_of(
            Outcome.SENT, smtp_reply=reply, render_seconds=rendered - started, smtp_seconds=sent - rendered
        )
        self.writer.submit(record, lambda: on_settled(result))


def _reason(exc: NotifierError) -> str:
    return f"{type(exc).__name__}: {exc}"
