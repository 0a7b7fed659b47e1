"""What happens to one message: read the event, ask its mail kind for the mail, check the ledger
and the cooldown, render, send, record.

The pipeline decides a :class:`Result`; it never talks to the broker. The consumer and the
replays turn results into acks, retries and dead letters. A sent mail is reported only once
the ledger has committed its record.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from microblog_contracts import EventDecodeError, decode_event

from notifier.errors import NotifierError
from notifier.failures import Failure
from notifier.kinds import KindRegistry, Mail
from notifier.ledger import DeliveryKey, DeliveryRecord, Ledger, Notice, NoticeKey
from notifier.mime import Sender, build_alternative, message_id_for
from notifier.render import Renderer
from notifier.transport import Transport


class Outcome(enum.StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # the ledger says this mail already went out: folded
    SKIPPED = "skipped"  # deliberately not mailed; `Result.skip` says why
    RETRY = "retry"  # a transient failure: try again later
    DEAD = "dead"  # cannot succeed: dead-letter it


class SkipReason(enum.StrEnum):
    """Why a mail was deliberately not sent."""

    COOLDOWN = "cooldown"  # a mail about the same subject went out inside NOTIFIER_COOLDOWN


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome for one message, with what the logs, metrics and dead-letter headers need."""

    outcome: Outcome
    event_id: str | None = None
    mail_kind: str | None = None
    recipient_domain: str | None = None
    failure: Failure | None = None
    skip: SkipReason | None = None
    detail: str | None = None
    smtp_reply: str | None = None
    render_seconds: float = 0.0
    smtp_seconds: float = 0.0
    event_time: datetime | None = None


Settled = Callable[[Result], None]


class _Inflight:
    """Keys being processed in this process: a second claim of a key waits for the first."""

    def __init__(self) -> None:
        self._keys: set[object] = set()
        self._cond = threading.Condition()

    def claim(self, key: object) -> None:
        with self._cond:
            while key in self._keys:
                self._cond.wait()
            self._keys.add(key)

    def release(self, key: object) -> None:
        with self._cond:
            self._keys.discard(key)
            self._cond.notify_all()


class Pipeline:
    """Turns a message body into a sent mail, or says why not."""

    def __init__(
        self,
        *,
        kinds: KindRegistry,
        renderer: Renderer,
        ledger: Ledger,
        sender: Sender,
        cooldown: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kinds = kinds
        self.renderer = renderer
        self.ledger = ledger
        self.sender = sender
        self.cooldown = cooldown
        self.clock = clock
        self.message_id_domain = sender.address.rsplit("@", 1)[1]
        self._inflight = _Inflight()

    def process(self, body: bytes, transport: Transport, on_settled: Settled, *, resend: bool = False) -> None:
        """Handle one message body; `on_settled` gets the result once it is final: for a sent mail
        after the ledger committed it, for anything else at once. `resend` skips the ledger and
        cooldown checks (an operator's deliberate replay)."""
        mail = self._read(body)
        if isinstance(mail, Result):
            on_settled(mail)
            return
        # One at a time per subject (or mail): a second copy of the event, or a re-follow, waits
        # here and then finds the first one's ledger record (or cooldown) instead of mailing.
        claim = (mail.kind, mail.cooldown_subject or mail.event_id)
        self._inflight.claim(claim)
        try:
            self._deliver(mail, transport, on_settled, resend=resend)
        finally:
            self._inflight.release(claim)

    def preview(self, body: bytes, *, resend: bool = False) -> Result:
        """What :meth:`process` would decide for `body`, without rendering or sending anything:
        SENT means it would be mailed."""
        mail = self._read(body)
        if isinstance(mail, Result):
            return mail
        try:
            return self._check(mail, resend) or _result(mail, Outcome.SENT)
        except NotifierError as exc:
            return _result(mail, Outcome.RETRY, failure=Failure.of(exc))

    # -- the steps -----------------------------------------------------------------------------

    def _read(self, body: bytes) -> Mail | Result:
        """The mail a body asks for, or the result that ends it here (unreadable, no kind)."""
        try:
            event = decode_event(body)
        except EventDecodeError as exc:
            return Result(Outcome.DEAD, failure=Failure.unreadable(exc))
        kind = self.kinds.for_event(event.type)
        if kind is None:
            return Result(Outcome.DEAD, event_id=event.id, event_time=event.time,
                          failure=Failure("unhandled_type", f"no mail kind handles {event.type}"))
        return kind.mail_for(event)

    def _check(self, mail: Mail, resend: bool) -> Result | None:
        """DUPLICATE or SKIPPED if the ledger says so; None when the mail should go."""
        if resend:
            return None
        notice_key = NoticeKey(mail.kind, mail.cooldown_subject) if mail.cooldown_subject else None
        known = self.ledger.lookup(_key(mail), notice_key)
        if known.delivered:
            return _result(mail, Outcome.DUPLICATE)
        last = known.notice
        refollow = last is not None and last.event_id != mail.event_id
        if last is not None and refollow and abs(mail.occurred_at - last.occurred_at) < self.cooldown:
            return _result(mail, Outcome.SKIPPED, skip=SkipReason.COOLDOWN,
                           detail=f"mailed {last.event_id} within the cooldown")
        return None

    def _deliver(self, mail: Mail, transport: Transport, on_settled: Settled, *, resend: bool) -> None:
        try:
            decided = self._check(mail, resend)
            if decided is not None:
                on_settled(decided)
                return
            started = time.perf_counter()
            rendered = self.renderer.render(mail)
            message_id = message_id_for(mail.event_id, mail.kind, self.message_id_domain)
            message = build_alternative(
                sender=self.sender, recipient=mail.recipient.address, subject=rendered.subject,
                text=rendered.text, html=rendered.html, message_id=message_id, date=self.clock(),
            )
            built = time.perf_counter()
            reply = transport.send(self.sender.address, [mail.recipient.address], message)
            sent = time.perf_counter()
        except NotifierError as exc:
            failure = Failure.of(exc)
            on_settled(_result(mail, Outcome.RETRY if failure.transient else Outcome.DEAD, failure=failure))
            return
        notice = (Notice(NoticeKey(mail.kind, mail.cooldown_subject), mail.event_id, mail.occurred_at)
                  if mail.cooldown_subject else None)
        record = DeliveryRecord(_key(mail), message_id, self.clock(), notice)
        result = _result(mail, Outcome.SENT, smtp_reply=reply, render_seconds=built - started,
                         smtp_seconds=sent - built)
        self.ledger.record(record, lambda: on_settled(result))


def _key(mail: Mail) -> DeliveryKey:
    return DeliveryKey(mail.event_id, mail.recipient.address, mail.kind)


_BLANK = Result(Outcome.SENT)


def _result(mail: Mail, outcome: Outcome, **fields: object) -> Result:
    return replace(_BLANK, outcome=outcome, event_id=mail.event_id, mail_kind=mail.kind,
                   recipient_domain=mail.recipient.domain, event_time=mail.occurred_at, **fields)  # type: ignore[arg-type]
