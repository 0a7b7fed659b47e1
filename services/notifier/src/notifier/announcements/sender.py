"""The bulk senders: each replica's threads that mail announcements to their recipients.

A sender takes the lease of a few pending recipients of the oldest open announcement, and for each
checks consent against the newest profile known (confirmed, announcements on, address not
refused), waits for its turn (MAIL_RATE_LIMIT over every replica, and after urgent mail), sends,
and records the outcome with the activity that tells social, in one transaction right after the
SMTP server's reply. A cancel is looked for every second: everyone not yet mailed is set aside. A
replica killed mid-announcement leaves its leases to run out; the next sender takes the
recipients over (a mail accepted in the instant before the kill goes again, with the same
Message-ID, which mail clients fold).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from microblog_contracts import MailActivityEntry, MailOutcome, Preference
from microblog_plumbing.backoff import Backoff

from notifier.announcements.content import AnnouncementContent
from notifier.announcements.pacing import SharedRate, UrgentWork
from notifier.consent import SkipReason, refused
from notifier.errors import BadAttachment, LedgerUnavailable, NotifierError, SmtpRecipientRefused, TransientError
from notifier.failures import Failure
from notifier.gathering.outbox import ActivityTeller
from notifier.kinds import Mail, Policy, Recipient
from notifier.ledger.announcements import (
    ANNOUNCEMENT_KIND,
    FAILED,
    SENT,
    SKIPPED,
    Announcement,
    Claimed,
    Outcome,
    SqlAnnouncements,
)
from notifier.mime import message_id_for
from notifier.outgoing import Composer
from notifier.render import Renderer
from notifier.transport import Transport

log = structlog.get_logger("notifier.bulk")

#: How often a sender looks whether the announcement it works on was cancelled.
CANCEL_LOOK = 1.0
#: Recipients set aside at once when an announcement is cancelled.
SET_ASIDE_CHUNK = 500
#: Announcements whose prepared content (attachment parts included) a replica keeps.
CONTENT_CACHE = 2


@dataclass(frozen=True)
class BulkSettings:
    owner: str
    concurrency: int = 2
    claim_limit: int = 20
    lease: timedelta = timedelta(minutes=2)
    poll: float = 2.0
    tell_every: float = 1.0


class _Stopped(Exception):
    """The sender was asked to stop while it held recipients."""


class SmtpDown(Exception):
    """The SMTP server failed transiently: let go of what is held, and try again later."""


class BulkSender:
    """Mails the pending recipients of open announcements."""

    def __init__(
        self,
        *,
        store: SqlAnnouncements,
        renderer: Renderer,
        composer: Composer,
        transport_factory: Callable[[], Transport],
        settings: BulkSettings,
        rate: SharedRate | None = None,
        urgent: UrgentWork | None = None,
        teller: ActivityTeller | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_outcome: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.composer = composer
        self.settings = settings
        self.rate = rate
        self.urgent = urgent
        self.teller = teller
        self.clock = clock
        self.on_outcome = on_outcome
        self.sender = composer.senders.bulk
        self._transport_factory = transport_factory
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._content: OrderedDict[str, AnnouncementContent] = OrderedDict()
        self._content_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, name=f"bulk-sender-{i}", daemon=True)
                         for i in range(settings.concurrency)]
        if teller is not None:
            self._threads.append(threading.Thread(target=self._tell, name="bulk-teller", daemon=True))

    # -- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop sending (what is held is let go of), and tell social what is still to be told."""
        started = any(thread.is_alive() for thread in self._threads)
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(30)
        if self.teller is not None and started:
            try:
                self.teller.tell_pending()
            except LedgerUnavailable as exc:
                log.warning("bulk_activity_not_told_yet", error=str(exc))

    def wake(self) -> None:
        """Something changed (a new announcement, recipients, a cancel): look now."""
        self._wake.set()

    def _run(self) -> None:
        transport: Transport | None = None
        backoff = Backoff(initial=1.0, cap=30.0)
        while not self._stop.is_set():
            try:
                transport = transport or self._transport_factory()
                done = self.run_once(transport)
                backoff.reset()
                if done:
                    continue
                self._wake.wait(self.settings.poll)
                self._wake.clear()
                continue
            except _Stopped:
                break
            except SmtpDown:
                if transport is not None:
                    transport.close()
                    transport = None
            except LedgerUnavailable as exc:
                log.error("bulk_ledger_unavailable", error=str(exc))
            except Exception as exc:  # a bug must not end the sender silently
                log.exception("bulk_sender_crashed", error=repr(exc))
            self._stop.wait(backoff.next_delay())
        if transport is not None:
            transport.close()

    def _tell(self) -> None:
        assert self.teller is not None
        while not self._stop.wait(self.settings.tell_every):
            try:
                self.teller.tell_pending()
            except LedgerUnavailable as exc:
                log.warning("bulk_activity_not_told_yet", error=str(exc))
            except Exception as exc:
                log.exception("bulk_teller_crashed", error=repr(exc))

    # -- one round ------------------------------------------------------------------------------

    def run_once(self, transport: Transport) -> int:
        """Work on one claim of recipients of the oldest open announcement; returns how many were
        settled or set aside (0: nothing to do now)."""
        for announcement in self.store.open_announcements():
            if announcement.cancelled_at is not None:
                set_aside = self._set_aside(announcement.announcement_id, SkipReason.CANCELLED,
                                            "the announcement was cancelled", MailOutcome.SKIPPED)
                if set_aside:
                    return set_aside
                continue
            if not announcement.complete:
                continue  # its text or some of its attachment chunks are still on their way
            try:
                content = self._content_of(announcement)
            except BadAttachment as exc:
                log.error("announcement_unsendable", announcement_id=announcement.announcement_id, error=str(exc))
                return self._set_aside(announcement.announcement_id, "bad_attachment", str(exc), MailOutcome.FAILED)
            now = self.clock()
            claimed = self.store.claim(announcement.announcement_id, self.settings.owner, now, self.settings.lease,
                                       self._claim_size())
            if claimed:
                self._send_all(announcement.announcement_id, content, claimed, transport)
                return len(claimed)
        return 0

    def _claim_size(self) -> int:
        """A claim is sent well inside its lease, whatever the rate limit."""
        if self.rate is None:
            return self.settings.claim_limit
        per_half_lease = int(self.rate.rate * self.settings.lease.total_seconds() / 2 / self.settings.concurrency)
        return max(1, min(self.settings.claim_limit, per_half_lease))

    def _content_of(self, announcement: Announcement) -> AnnouncementContent:
        key = announcement.announcement_id
        with self._content_lock:
            if key in self._content:
                self._content.move_to_end(key)
                return self._content[key]
        assert announcement.data is not None
        content = AnnouncementContent(announcement.data, lambda i: self.store.attachment(key, i), self.renderer.css)
        with self._content_lock:
            self._content[key] = content
            while len(self._content) > CONTENT_CACHE:
                self._content.popitem(last=False)
        return content

    def _set_aside(self, announcement_id: str, reason: str, detail: str, outcome: MailOutcome) -> int:
        """Set aside everyone still pending (no lease held by a sender), a chunk at a time."""
        ids = self.store.pending_ids(announcement_id, SET_ASIDE_CHUNK)
        if not ids:
            return 0
        now = self.clock()
        state = SKIPPED if outcome is MailOutcome.SKIPPED else FAILED
        self.store.finish(announcement_id, self.settings.owner, [
            Outcome(u, state, reason, _entry(announcement_id, u, outcome, reason, now), detail) for u in ids], now)
        for _ in ids:
            self._counted(state, reason)
        log.info("announcement_set_aside", announcement_id=announcement_id, reason=reason, recipients=len(ids))
        return len(ids)

    # -- the recipients of one claim ------------------------------------------------------------

    def _send_all(self, announcement_id: str, content: AnnouncementContent, claimed: Sequence[Claimed],
                  transport: Transport) -> None:
        pending = list(claimed)
        held: list[Outcome] = []  # skips, recorded with the next mail or at the end
        looked = renewed = time.monotonic()
        lease = self.settings.lease.total_seconds()
        try:
            while pending:
                if self._stop.is_set():
                    raise _Stopped
                if time.monotonic() - renewed > lease / 3:
                    renewed = time.monotonic()
                    self.store.renew(announcement_id, self.settings.owner, [c.user_id for c in pending],
                                     self.clock() + self.settings.lease)
                if time.monotonic() - looked > CANCEL_LOOK:
                    looked = time.monotonic()
                    if self.store.cancelled_at(announcement_id) is not None:
                        log.info("announcement_cancelled_midway", announcement_id=announcement_id)
                        break
                recipient = pending[0]
                outcome = self._one(announcement_id, content, recipient, transport)
                pending.pop(0)
                held.append(outcome)
                if outcome.state != SKIPPED:  # a mail went (or failed for good): record it at once
                    self._finish(announcement_id, held)
                    held = []
        except (_Stopped, SmtpDown):
            self._finish(announcement_id, held)
            held = []
            self.store.release(announcement_id, self.settings.owner, [c.user_id for c in pending])
            raise
        finally:
            if held:
                self._finish(announcement_id, held)
        self.store.release(announcement_id, self.settings.owner, [c.user_id for c in pending])

    def _finish(self, announcement_id: str, outcomes: list[Outcome]) -> None:
        if outcomes:
            self.store.finish(announcement_id, self.settings.owner, outcomes, self.clock())
            for o in outcomes:
                self._counted(o.state, o.reason)

    def _counted(self, state: str, reason: str | None) -> None:
        if self.on_outcome is not None:
            self.on_outcome(state, reason)

    def _one(self, announcement_id: str, content: AnnouncementContent, claimed: Claimed,
             transport: Transport) -> Outcome:
        """Send (or set aside) one recipient's mail; raises SmtpDown or _Stopped."""
        profile = claimed.profile
        user_id = claimed.user_id
        if profile is None:  # never: every recipient came with a profile
            return self._outcome(announcement_id, user_id, FAILED, "no_profile", "no mail profile is known", None)
        address = str(profile.email).lower()
        skip = refused(profile, Preference.ANNOUNCEMENTS, claimed.suppressed_at)
        if skip is not None:
            return self._outcome(announcement_id, user_id, SKIPPED, skip.reason.value, skip.detail, address)
        if self.urgent is not None:
            self.urgent.wait_for_room(self._stop)
        if self.rate is not None and not self.rate.wait_turn(self._stop):
            raise _Stopped
        words = content.words_for(profile.locale)
        mail = Mail(ANNOUNCEMENT_KIND, Policy.BULK, announcement_id,
                    Recipient(user_id, address, profile.nickname, profile.locale), content.data.created_at,
                    {"user": profile, "announcement": words, "attachments": content.files},
                    profile=profile, preference=Preference.ANNOUNCEMENTS)
        message_id = message_id_for(f"{announcement_id}.{user_id}", ANNOUNCEMENT_KIND, self.sender.domain)
        try:
            rendered = self.renderer.render(mail)
            sender, message = self.composer.compose(mail, rendered, message_id, self.clock(), content.parts)
            transport.send(sender.address, [address], message)
        except SmtpRecipientRefused as exc:
            failure = Failure.of(exc)
            return self._outcome(announcement_id, user_id, FAILED, failure.kind, failure.detail, address,
                                 refused_reply=failure.detail)
        except TransientError as exc:
            log.warning("bulk_send_failed", announcement_id=announcement_id, failure=Failure.of(exc).kind,
                        error=str(exc))
            raise SmtpDown from None
        except NotifierError as exc:  # permanent: a bad address, a template that cannot render
            failure = Failure.of(exc)
            return self._outcome(announcement_id, user_id, FAILED, failure.kind, failure.detail, address)
        return self._outcome(announcement_id, user_id, SENT, None, None, address)

    def _outcome(self, announcement_id: str, user_id: int, state: str, reason: str | None, detail: str | None,
                 address: str | None, *, refused_reply: str | None = None) -> Outcome:
        outcome = {SENT: MailOutcome.SENT, SKIPPED: MailOutcome.SKIPPED}.get(state, MailOutcome.FAILED)
        return Outcome(user_id, state, reason, _entry(announcement_id, user_id, outcome, reason, self.clock()),
                       detail, address, refused_reply)


def _entry(announcement_id: str, user_id: int, outcome: MailOutcome, reason: str | None, at: datetime) -> str:
    return MailActivityEntry.model_construct(
        id=f"{announcement_id}.{ANNOUNCEMENT_KIND}.{user_id}", user_id=user_id, kind=ANNOUNCEMENT_KIND,
        event_id=announcement_id, outcome=outcome, reason=reason, at=at, merged_into_at=None).model_dump_json()
