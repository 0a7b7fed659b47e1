"""What happens to one message: read the event, ask its mail kind for the mail, gather what the
ledger knows, decide (duplicate, consent, limits), render, send, record.

The pipeline decides a :class:`Result`; it never talks to the broker. The consumer and the
replays turn results into acks, retries and dead letters. A sent or skipped mail, a refused
address and a profile are reported only once the ledger has committed their record.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from microblog_contracts import (
    USER_DELETED,
    USER_PROFILE_CHANGED,
    USER_UNFOLLOWED,
    AnnouncementAttachment,
    AnnouncementCancelled,
    AnnouncementCreated,
    AnnouncementRecipients,
    EventDecodeError,
    NoticeMode,
    UserDeleted,
    UserProfileChanged,
    UserUnfollowed,
    decode_event,
)

from notifier.announcements.intake import AnnouncementEvent, Intake
from notifier.announcements.pacing import UrgentWork
from notifier.consent import CAP_WINDOW, Limits, Skip, SkipReason, newest_profile, why_not
from notifier.errors import NotifierError, SmtpRecipientRefused
from notifier.failures import Failure
from notifier.gathering.policy import GatherPolicy
from notifier.kinds import KindRegistry, Mail, Policy
from notifier.ledger import (
    DeliveryKey,
    DeliveryRecord,
    Facts,
    FactsQuery,
    ForgetRecord,
    Ledger,
    Notice,
    NoticeKey,
    NoticeRecord,
    ProfileRecord,
    SkipRecord,
    SuppressionRecord,
    UnfollowRecord,
)
from notifier.mime import message_id_for
from notifier.outgoing import Composer
from notifier.render import Renderer
from notifier.transport import Transport

#: Events that change what the notifier knows rather than asking for a mail.
STATE_EVENT_TYPES = (USER_PROFILE_CHANGED, USER_UNFOLLOWED, USER_DELETED)
StateEvent = UserProfileChanged | UserUnfollowed | UserDeleted

_ANNOUNCEMENT_EVENTS = (AnnouncementCreated, AnnouncementAttachment, AnnouncementRecipients, AnnouncementCancelled)

__all__ = ["STATE_EVENT_TYPES", "Outcome", "Pipeline", "Result", "Settled", "SkipReason"]


class Outcome(enum.StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # the ledger says this mail already went out: folded
    SKIPPED = "skipped"  # deliberately not mailed; `Result.skip` says why
    NOTED = "noted"  # a state event (a profile, an unfollow), recorded
    HELD = "held"  # a follow notice that waits (a grace, a batch, a digest): the scheduler sends it
    RETRY = "retry"  # a transient failure: try again later
    DEAD = "dead"  # cannot succeed: dead-letter it


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome for one message, with what the logs, metrics, activity events and dead-letter
    headers need. `address` is for the bounce event only: it is never logged."""

    outcome: Outcome
    event_id: str | None = None
    mail_kind: str | None = None
    user_id: int | None = None
    address: str | None = field(default=None, repr=False)
    recipient_domain: str | None = None
    failure: Failure | None = None
    skip: SkipReason | None = None
    detail: str | None = None
    smtp_reply: str | None = None
    render_seconds: float = 0.0
    smtp_seconds: float = 0.0
    event_time: datetime | None = None
    settled_at: datetime | None = None


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
        composer: Composer,
        limits: Limits,
        gather: GatherPolicy | None = None,
        on_held: Callable[[datetime], None] | None = None,
        intake: Intake | None = None,
        urgent: UrgentWork | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kinds = kinds
        self.renderer = renderer
        self.ledger = ledger
        self.composer = composer
        self.limits = limits
        self.gather = gather
        self.on_held = on_held
        self.intake = intake
        #: Mail in hand, which bulk senders give way to.
        self.urgent = urgent or UrgentWork(1)
        self.clock = clock
        self._capped_kinds = tuple(k.name for k in kinds.kinds if k.policy is Policy.NOTIFICATION)
        self._inflight = _Inflight()

    def process(self, body: bytes, transport: Transport, on_settled: Settled, *, resend: bool = False) -> None:
        """Handle one message body; `on_settled` gets the result once it is final: for anything
        recorded, after the ledger committed it; for anything else, at once. `resend` mails again
        what the ledger says was mailed, skipping the cooldown too (an operator's deliberate replay);
        consent still applies."""
        read = self._read(body)
        if isinstance(read, Result):
            on_settled(read)
            return
        if isinstance(read, _ANNOUNCEMENT_EVENTS):
            self._take(read, on_settled)
            return
        if not isinstance(read, Mail):
            self._note(read, on_settled)
            return
        # One at a time per subject (or mail): a second copy of the event, or a re-follow, waits
        # here and then finds the first one's ledger record (or cooldown) instead of mailing.
        claim = (read.kind, read.cooldown_subject or read.event_id)
        self._inflight.claim(claim)
        try:
            with self.urgent.held():
                self._deliver(read, transport, on_settled, resend=resend)
        finally:
            self._inflight.release(claim)

    def preview(self, body: bytes, *, resend: bool = False) -> Result:
        """What :meth:`process` would decide for `body`, without sending or recording anything:
        SENT means it would be mailed."""
        read = self._read(body)
        if isinstance(read, Result):
            return read
        if not isinstance(read, Mail):  # a state event or an announcement's: kept, nothing sent
            return Result(Outcome.NOTED, event_id=read.id, event_time=read.time)
        try:
            mail, decided = self._decide(read, resend)
        except NotifierError as exc:
            return self._result(read, Outcome.RETRY, failure=Failure.of(exc))
        if isinstance(decided, Skip):
            return self._result(mail, Outcome.SKIPPED, skip=decided.reason, detail=decided.detail)
        if isinstance(decided, datetime):
            return self._result(mail, Outcome.HELD, detail=f"until {decided.isoformat(timespec='seconds')}")
        return decided or self._result(mail, Outcome.SENT)

    # -- the steps -----------------------------------------------------------------------------

    def _read(self, body: bytes) -> Mail | StateEvent | AnnouncementEvent | Result:
        """The mail a body asks for, a state event, or the result that ends it here."""
        try:
            event = decode_event(body)
        except EventDecodeError as exc:
            return Result(Outcome.DEAD, failure=Failure.unreadable(exc))
        if isinstance(event, UserProfileChanged | UserUnfollowed | UserDeleted):
            return event
        if isinstance(event, _ANNOUNCEMENT_EVENTS) and self.intake is not None:
            return event
        kind = self.kinds.for_event(event.type)
        if kind is None:
            return Result(Outcome.DEAD, event_id=event.id, event_time=event.time,
                          failure=Failure("unhandled_type", f"no mail kind handles {event.type}"))
        return kind.mail_for(event)

    def _take(self, event: AnnouncementEvent, on_settled: Settled) -> None:
        """Keep an announcement's event for the bulk senders (written at once: the bulk queue is
        not the hot path)."""
        assert self.intake is not None
        try:
            self.intake.take(event)
        except NotifierError as exc:
            failure = Failure.of(exc)
            on_settled(Result(Outcome.RETRY if failure.transient else Outcome.DEAD, event_id=event.id,
                              event_time=event.time, failure=failure))
            return
        on_settled(Result(Outcome.NOTED, event_id=event.id, event_time=event.time))

    def _note(self, event: StateEvent, on_settled: Settled) -> None:
        if isinstance(event, UserProfileChanged):
            profile = event.data.profile
            done = Result(Outcome.NOTED, event_id=event.id, user_id=profile.user_id, event_time=event.time)
            self.ledger.record(ProfileRecord(profile, event.data.changed_at), lambda: on_settled(done))
            return
        if isinstance(event, UserDeleted):
            deleted = Result(Outcome.NOTED, event_id=event.id, user_id=event.data.user_id, event_time=event.time)
            self.ledger.record(ForgetRecord(event.data.user_id, event.data.deleted_at), lambda: on_settled(deleted))
            return
        data = event.data
        done = Result(Outcome.NOTED, event_id=event.id, user_id=data.followed_id, event_time=event.time)
        self.ledger.record(UnfollowRecord(data.follower_id, data.followed_id, data.unfollowed_at),
                           lambda: on_settled(done))

    def _facts(self, mail: Mail, *, resend: bool) -> Facts:
        notification = mail.policy is Policy.NOTIFICATION
        capped = notification and self.limits.daily_cap > 0
        return self.ledger.facts(FactsQuery(
            key=_key(mail),
            notice_key=NoticeKey(mail.kind, mail.cooldown_subject) if mail.cooldown_subject and not resend else None,
            user_id=mail.recipient.user_id if notification else None,
            address=mail.recipient.address if notification else None,
            sent_since=self.clock() - CAP_WINDOW if capped else None,
            cap_kinds=self._capped_kinds if capped else (),
            people=_people(mail),
        ))

    def _decide(self, mail: Mail, resend: bool) -> tuple[Mail, Result | Skip | datetime | None]:
        """The mail as it would go (to the newest profile), and what stops it: a DUPLICATE result,
        a Skip, the time it must wait until (a gathered notice), or None when it should go now."""
        facts = self._facts(mail, resend=resend)
        if facts.deleted:
            return mail, Skip(SkipReason.USER_DELETED, "a person this mail is to or about deleted their account")
        if (facts.delivered or facts.notice_state is not None) and not resend:
            return mail, self._result(mail, Outcome.DUPLICATE)
        current = newest_profile(mail, facts)
        if current.recipient.address != mail.recipient.address:  # the address changed since
            facts = self._facts(current, resend=resend)
        now = self.clock()
        due = self.gather.due(current, now) if self.gather is not None and current.gatherable and not resend else None
        default = self.gather.default_mode if self.gather is not None else NoticeMode.IMMEDIATELY
        # A notice that waits is checked for consent now, and for the cooldown and the cap when it goes.
        skip = why_not(current, facts, self.limits, now, limits_apply=due is None, default_mode=default)
        return current, skip or due

    def _deliver(self, mail: Mail, transport: Transport, on_settled: Settled, *, resend: bool) -> None:
        try:
            mail, decided = self._decide(mail, resend)
            if isinstance(decided, Result):
                on_settled(decided)
                return
            if isinstance(decided, Skip):
                self._skip(mail, decided, on_settled)
                return
            if isinstance(decided, datetime):
                self._hold(mail, decided, on_settled)
                return
            started = time.perf_counter()
            rendered = self.renderer.render(mail)
            domain = self.composer.senders.for_policy(mail.policy).domain
            message_id = message_id_for(mail.event_id, mail.kind, domain)
            sender, message = self.composer.compose(mail, rendered, message_id, self.clock())
            built = time.perf_counter()
            reply = transport.send(sender.address, [mail.recipient.address], message)
            sent = time.perf_counter()
        except SmtpRecipientRefused as exc:
            self._refused(mail, Failure.of(exc), on_settled)
            return
        except NotifierError as exc:
            failure = Failure.of(exc)
            on_settled(self._result(mail, Outcome.RETRY if failure.transient else Outcome.DEAD, failure=failure))
            return
        notice = (Notice(NoticeKey(mail.kind, mail.cooldown_subject), mail.event_id, mail.occurred_at)
                  if mail.cooldown_subject else None)
        now = self.clock()
        result = self._result(mail, Outcome.SENT, smtp_reply=reply, render_seconds=built - started,
                              smtp_seconds=sent - built, settled_at=now)
        self.ledger.record(DeliveryRecord(_key(mail), message_id, now, notice), lambda: on_settled(result))

    def _hold(self, mail: Mail, due: datetime, on_settled: Settled) -> None:
        """Keep a follow notice for the scheduler, with the newest profile it was seen with."""
        now = self.clock()
        assert mail.profile is not None
        follower = mail.context["follower"]
        self.ledger.record(ProfileRecord(mail.profile, now), lambda: None)
        record = NoticeRecord(mail.event_id, mail.recipient.user_id, follower.id, follower.model_dump_json(),
                              mail.occurred_at, due)
        result = self._result(mail, Outcome.HELD, settled_at=now, detail=f"until {due.isoformat(timespec='seconds')}")

        def held() -> None:
            on_settled(result)
            if self.on_held is not None:
                self.on_held(due)

        self.ledger.record(record, held)

    def _skip(self, mail: Mail, skip: Skip, on_settled: Settled) -> None:
        now = self.clock()
        result = self._result(mail, Outcome.SKIPPED, skip=skip.reason, detail=skip.detail, settled_at=now)
        if skip.reason is SkipReason.USER_DELETED:  # nothing about them is kept, not even this skip
            on_settled(result)
            return
        record = SkipRecord(mail.event_id, mail.kind, mail.recipient.user_id, mail.recipient.domain,
                            skip.reason.value, skip.detail, now)
        self.ledger.record(record, lambda: on_settled(result))

    def _refused(self, mail: Mail, failure: Failure, on_settled: Settled) -> None:
        """A permanent refusal of the recipient: dead-letter it and stop mailing the address."""
        now = self.clock()
        result = self._result(mail, Outcome.DEAD, failure=failure, settled_at=now)
        record = SuppressionRecord(mail.recipient.address, mail.recipient.user_id, now, failure.detail, mail.event_id)
        self.ledger.record(record, lambda: on_settled(result))

    @staticmethod
    def _result(mail: Mail, outcome: Outcome, **fields: object) -> Result:
        recipient = mail.recipient
        return Result(outcome, mail.event_id, mail.kind, recipient.user_id, recipient.address, recipient.domain,
                      event_time=mail.occurred_at, **fields)  # type: ignore[arg-type]


def _people(mail: Mail) -> tuple[int, ...]:
    """The users a mail is to or about: its recipient, and the follower a follow notice names."""
    follower = mail.context.get("follower")
    follower_id = getattr(follower, "id", None)
    return (mail.recipient.user_id,) if follower_id is None else (mail.recipient.user_id, int(follower_id))


def _key(mail: Mail) -> DeliveryKey:
    return DeliveryKey(mail.event_id, mail.recipient.address, mail.kind)
