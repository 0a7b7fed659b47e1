"""The scheduler: each replica's thread that sends the follow notices that waited.

It takes the lease of recipients whose notices are due, decides for each what goes (one mail per
follow, a gathered mail, a digest) or waits longer (quiet hours, an open window), composes a
gathered mail before sending it (so a crash repeats the same mail, with the same Message-ID),
sends it, records it, and lets go of the lease. While nothing is due it sleeps until the next due
time, woken early when this replica holds a new notice, and looks again every few seconds for
notices other replicas held.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from microblog_contracts import MailActivityEntry, MailOutcome, MailProfile, NoticeMode, Preference
from microblog_plumbing.backoff import Backoff

from notifier.consent import CAP_WINDOW, Limits, SkipReason, refused
from notifier.errors import LedgerUnavailable, NotifierError, PermanentError, SmtpRecipientRefused
from notifier.failures import Failure
from notifier.gathering.batch import NAMED, Batch, batch_id_for, gathered_context
from notifier.gathering.outbox import ActivityTeller
from notifier.gathering.policy import GatherPolicy
from notifier.gathering.timing import mode_of, next_digest, quiet_until
from notifier.kinds import Mail, Policy, Recipient
from notifier.ledger.gathering import DueNotice, RecipientState, Skipped, SqlGathering
from notifier.mime import message_id_for
from notifier.outgoing import Composer
from notifier.render import Renderer
from notifier.transport import Transport

log = structlog.get_logger("notifier.scheduler")

FOLLOWER, BATCH, DIGEST = "follower_email", "follower_batch", "follower_digest"
#: After a failed send, a recipient's notices are tried again this much later.
RETRY_AFTER = timedelta(minutes=1)


@dataclass
class _Group:
    kind: str
    notices: list[DueNotice] = field(default_factory=list)


class LeaseLost(Exception):
    """Another replica took this recipient over (the lease ran out): stop working on it."""


class Scheduler:
    """Sends the notices whose time has come, for the recipients whose lease it holds."""

    def __init__(
        self,
        *,
        gathering: SqlGathering,
        renderer: Renderer,
        composer: Composer,
        transport_factory: Callable[[], Transport],
        policy: GatherPolicy,
        limits: Limits,
        capped_kinds: tuple[str, ...],
        teller: ActivityTeller | None,
        owner: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll: float = 5.0,
        claim_limit: int = 20,
        on_sent: Callable[[str], None] | None = None,
    ) -> None:
        self.gathering = gathering
        self.renderer = renderer
        self.composer = composer
        self.policy = policy
        self.limits = limits
        self.capped_kinds = capped_kinds
        self.teller = teller
        self.owner = owner
        self.clock = clock
        self.poll = poll
        self.claim_limit = claim_limit
        self.on_sent = on_sent
        self.domain = composer.senders.notification.domain
        self._transport_factory = transport_factory
        self._transport: Transport | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._next_look = self.clock()
        self._backoff = Backoff(initial=1.0, cap=30.0)

    # -- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(30)
        if self._transport is not None:
            self._transport.close()
        if self.teller is not None:
            self.teller.close()

    def wake(self, due: datetime) -> None:
        """A notice due at `due` was held here: look at the schedule then, if that is sooner than
        planned (a storm of notices for a later time wakes nobody)."""
        if due < self._next_look:
            self._next_look = due
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
                if self.teller is not None:
                    self.teller.tell_pending()
                self._backoff.reset()
                if busy:
                    continue
                next_due = self.gathering.next_due()
            except LedgerUnavailable as exc:
                delay = self._backoff.next_delay()
                log.error("scheduler_ledger_unavailable", error=str(exc), retry_in_seconds=round(delay, 1))
                self._stop.wait(delay)
                continue
            except Exception as exc:  # a bug must not end the scheduler silently
                log.exception("scheduler_crashed", error=repr(exc))
                self._stop.wait(self._backoff.next_delay())
                continue
            now = self.clock()
            wait = self.poll
            if next_due is not None:
                wait = min(wait, max(0.0, (next_due - now).total_seconds()))
            self._next_look = now + timedelta(seconds=wait)
            self._wake.wait(max(wait, 0.01))
            self._wake.clear()

    def run_once(self) -> int:
        """Work on every recipient due now (as many as one claim takes); returns how many."""
        now = self.clock()
        claimed = self.gathering.claim(self.owner, now, self.policy.lease, self.claim_limit)
        for user_id in claimed:
            try:
                self._work_on(user_id, now)
            except LeaseLost:
                log.warning("lease_lost", user_id=user_id)
            except _Retry as retry:
                self.gathering.release(user_id, self.owner, window_until=None, postpone_until=retry.at)
        return len(claimed)

    # -- one recipient --------------------------------------------------------------------------

    def _work_on(self, user_id: int, now: datetime) -> None:
        cap = self.limits.daily_cap
        state = self.gathering.load(user_id, now, cap_since=now - CAP_WINDOW if cap else None,
                                    cap_kinds=self.capped_kinds)
        profile = state.profile
        window = state.window_until
        if profile is None:  # never happens for notices of profile-carrying events; keep them waiting
            log.error("notices_without_profile", user_id=user_id)
            self.gathering.release(user_id, self.owner, window_until=None, postpone_until=now + RETRY_AFTER)
            return
        domain = str(profile.email).rsplit("@", 1)[-1]
        if state.composed is not None:  # a crash came between composing and recording: finish it
            composed = state.composed
            self._send(state, _Group(composed.kind, list(composed.notices)), now, batch_id=composed.batch_id)
        due = list(state.due)
        undone = sorted(self.gathering.undone(user_id, due))
        undone_entries = self._entries(user_id, undone, MailOutcome.SKIPPED, SkipReason.FOLLOW_UNDONE.value, now)
        skip = refused(profile, Preference.FOLLOW_NOTICES, state.suppressed_at, self.policy.default_mode)
        if skip is not None:
            unwanted = [n.event_id for n in due if n.event_id not in undone]
            self.gathering.set_aside(
                user_id, self.owner, now, skipped=[Skipped(tuple(unwanted), skip.reason.value, skip.detail)],
                cancelled=undone, domain=domain,
                entries=self._entries(user_id, unwanted, MailOutcome.SKIPPED, skip.reason.value, now) + undone_entries)
            self.gathering.release(user_id, self.owner, window_until=window, postpone_until=None)
            return
        cooled = sorted(self.gathering.mailed_within(user_id, [n for n in due if n.event_id not in undone],
                                                     self.limits.cooldown, FOLLOWER))
        live = [n for n in due if n.event_id not in undone and n.event_id not in cooled]
        cooled_skips = []
        if cooled:
            cooled_skips.append(Skipped(tuple(cooled), SkipReason.COOLDOWN.value, "mailed within the cooldown"))
        aside_entries = undone_entries + self._entries(user_id, cooled, MailOutcome.SKIPPED, "cooldown", now)
        mode = mode_of(profile, self.policy.default_mode)
        quiet_end = quiet_until(now, profile)
        if quiet_end is not None:  # they wait, and go gathered when the quiet hours end
            if undone or cooled:
                self.gathering.set_aside(user_id, self.owner, now, cancelled=undone, skipped=cooled_skips,
                                         entries=aside_entries, domain=domain)
            self.gathering.release(user_id, self.owner, window_until=window, postpone_until=quiet_end)
            return
        if undone or cooled:
            self.gathering.set_aside(user_id, self.owner, now, cancelled=undone, skipped=cooled_skips,
                                     entries=aside_entries, domain=domain)
        groups, deferred = self._groups(mode, live, window, now, state.sent_recently, profile)
        if deferred:
            digest_at = next_digest(now, profile)
            self.gathering.set_aside(user_id, self.owner, now, to_digest=[n.event_id for n in deferred],
                                     digest_at=digest_at, domain=domain,
                                     entries=self._entries(user_id, [n.event_id for n in deferred],
                                                           MailOutcome.SKIPPED, SkipReason.DAILY_CAP.value, now,
                                                           merged_into_at=digest_at))
        sent_batch = False
        for group in groups:
            sent_batch |= self._send(state, group, now) and mode is NoticeMode.BATCHED
        if sent_batch:
            window = now + self.policy.window
        held_in_window = mode is NoticeMode.BATCHED and window is not None and window > now
        self.gathering.release(user_id, self.owner, window_until=window if held_in_window else None,
                               postpone_until=None, keep_window=held_in_window)

    def _groups(self, mode: NoticeMode, live: list[DueNotice], window: datetime | None, now: datetime,
                sent_recently: int, profile: MailProfile) -> tuple[list[_Group], list[DueNotice]]:
        """The mails to send now, and the notices the daily cap moves into the digest. Notices that
        fell due inside the recipient's quiet hours go gathered, whatever the mode."""
        daily = mode is NoticeMode.DAILY
        digest = _Group(DIGEST, [n for n in live if n.digest or daily])
        waited = {n.event_id for n in live if not (n.digest or daily) and quiet_until(n.due_at, profile) is not None}
        gathered = _Group(BATCH, [n for n in live if n.event_id in waited])
        rest = [n for n in live if not (n.digest or daily) and n.event_id not in waited]
        groups = [g for g in (digest, gathered) if g.notices]
        if mode is NoticeMode.BATCHED and rest and not (window is not None and window > now):
            groups.append(_Group(BATCH, rest))
        elif mode is NoticeMode.IMMEDIATELY:
            groups += [_Group(FOLLOWER, [n]) for n in rest]
        cap, sent, deferred, kept = self.limits.daily_cap, sent_recently, [], []
        for group in groups:
            if group.kind != DIGEST and cap and sent >= cap:
                deferred += group.notices
                continue
            kept.append(group)
            sent += group.kind != DIGEST
        return kept, deferred

    def _send(self, state: RecipientState, group: _Group, now: datetime, *, batch_id: str | None = None) -> bool:
        """Compose, send and record one mail; True if it went."""
        profile = state.profile
        assert profile is not None
        user_id = state.user_id
        if not self.gathering.renew(user_id, self.owner, now + self.policy.lease):
            raise LeaseLost(user_id)
        ids = [n.event_id for n in group.notices]
        kind = FOLLOWER if len(ids) == 1 and group.kind == BATCH else group.kind
        batch_id = batch_id or batch_id_for(user_id, kind, ids)
        followers = self.gathering.followers(ids[:NAMED])
        batch = Batch(batch_id, user_id, kind, tuple(ids), tuple(followers), len(ids),
                      max(n.followed_at for n in group.notices))
        self.gathering.compose(user_id, batch_id, kind, ids, now)
        address = str(profile.email).lower()
        key = ids[0] if kind == FOLLOWER else batch_id
        context = ({"user": profile, "follower": followers[0]} if kind == FOLLOWER
                   else gathered_context(profile, batch))
        mail = Mail(kind, Policy.NOTIFICATION, key, Recipient(user_id, address, profile.nickname, profile.locale),
                    batch.latest_at, context, profile=profile, preference=Preference.FOLLOW_NOTICES)
        message_id = message_id_for(key, kind, self.domain)
        try:
            rendered = self.renderer.render(mail)
            sender, message = self.composer.compose(mail, rendered, message_id, self.clock())
            self._session().send(sender.address, [address], message)
        except NotifierError as exc:
            self._failed(state, batch, Failure.of(exc), exc, now)
            return False
        sent_at = self.clock()
        if kind == FOLLOWER:
            entries = self._entries(user_id, ids, MailOutcome.SENT, None, sent_at)
        else:  # the gathered mail itself, and each notice merged into it
            entries = [_entry(user_id, batch_id, kind, MailOutcome.SENT, None, sent_at),
                       *self._entries(user_id, ids, MailOutcome.SKIPPED, "merged", sent_at, merged_into_at=sent_at)]
        self.gathering.sent(user_id, batch_id, key_event_id=key, address=address, kind=kind, message_id=message_id,
                            event_ids=ids, followers={n.event_id: n.follower_id for n in group.notices},
                            now=sent_at, entries=entries)
        log.info("gathered_mail_sent", mail_kind=kind, notices=len(ids), user_id=user_id,
                 recipient_domain=address.rsplit("@", 1)[-1])
        if self.on_sent is not None:
            self.on_sent(kind)
        return True

    def _failed(self, state: RecipientState, batch: Batch, failure: Failure, exc: NotifierError, now: datetime) -> None:
        """A transient failure leaves the composed mail to be sent again later; a permanent one
        ends it (a refused address is told as a bounce by the next mail's skip)."""
        log.warning("gathered_mail_failed", mail_kind=batch.kind, notices=batch.count, failure=failure.kind,
                    user_id=state.user_id)
        self._close_session()
        if isinstance(exc, PermanentError):
            profile = state.profile
            assert profile is not None
            refused_address = str(profile.email).lower() if isinstance(exc, SmtpRecipientRefused) else None
            self.gathering.set_aside(state.user_id, self.owner, now,
                                     skipped=[Skipped(batch.event_ids, failure.kind, failure.detail)],
                                     entries=self._entries(state.user_id, list(batch.event_ids), MailOutcome.FAILED,
                                                           failure.kind, now),
                                     bounce=(refused_address, failure.detail, batch.key) if refused_address else None,
                                     abandon_batch=batch.batch_id)
            return
        raise _Retry(now + RETRY_AFTER)

    def _entries(self, user_id: int, event_ids: Sequence[str], outcome: MailOutcome, reason: str | None,
                 at: datetime, *, merged_into_at: datetime | None = None) -> list[str]:
        return [_entry(user_id, e, FOLLOWER, outcome, reason, at, merged_into_at) for e in event_ids]

    def _session(self) -> Transport:
        if self._transport is None:
            self._transport = self._transport_factory()
        return self._transport

    def _close_session(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class _Retry(Exception):
    def __init__(self, at: datetime) -> None:
        super().__init__(at.isoformat())
        self.at = at


def _entry(user_id: int, event_id: str, kind: str, outcome: MailOutcome, reason: str | None, at: datetime,
           merged_into_at: datetime | None = None) -> str:
    return MailActivityEntry.model_construct(
        id=f"{event_id}.{kind}.{user_id}", user_id=user_id, kind=kind, event_id=event_id, outcome=outcome,
        reason=reason, at=at, merged_into_at=merged_into_at).model_dump_json()
