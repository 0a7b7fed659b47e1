"""Who gets an announcement: every user with a confirmed address and announcements on, read in
id order a page at a time, and their mail profiles packed into `announcement.recipients` batches.

Both are generators, so a hundred thousand recipients cost the memory of one page of users and
one batch, not of them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
from microblog_contracts import AnnouncementRecipients, MailProfile
from microblog_contracts.announcements import RECIPIENTS_PER_BATCH
from pydantic import ValidationError
from sqlalchemy import select

from social.announcements.events import recipients_event
from social.extensions import db
from social.mail.links import Links
from social.mail.profiles import mail_profile
from social.models import User

log = structlog.get_logger("social.announcements")

#: Users read per query: keyset pages (`id > last`), so no cursor stays open between them.
PAGE_SIZE = 1000
#: The largest `announcement.recipients` body written, well inside the contract's MAX_EVENT_BYTES.
BATCH_BYTES = 48 * 1024


@dataclass
class LeftOut:
    """Users who would get the announcement but whose profile no mail can carry (an address made
    around sign-up's checks, say): each is logged with its id, and counted here."""

    users: int = 0


@dataclass(frozen=True)
class Batch:
    number: int
    recipients: int
    event: AnnouncementRecipients
    body: bytes


def recipient_profiles(links: Links, left_out: LeftOut, *, page_size: int = PAGE_SIZE) -> Iterator[MailProfile]:
    """The mail profile of every user who is to get an announcement, in id order."""
    wanted = (User.email_confirmed_at.is_not(None), User.announcements.is_(True))
    after = 0
    while True:
        page = select(User).where(User.id > after, *wanted).order_by(User.id).limit(page_size)
        users = db.session.scalars(page).all()
        for user in users:
            try:
                yield mail_profile(user, links)
            except ValidationError as exc:
                left_out.users += 1
                log.warning("announcement_recipient_left_out", user=user.id, reason=exc.errors()[0]["msg"][:200])
        if len(users) < page_size:
            return
        after = users[-1].id


def pack_batches(
    profiles: Iterable[MailProfile], *, announcement_id: str, at: datetime,
    max_bytes: int = BATCH_BYTES, max_recipients: int = RECIPIENTS_PER_BATCH,
) -> Iterator[Batch]:
    """Greedy batches: each takes profiles while it has fewer than `max_recipients` and its
    serialized event stays within `max_bytes` (known exactly: the event's JSON is its empty self
    plus each profile's JSON and a comma between them)."""
    number, pending, used = 0, list[MailProfile](), 0
    event_id, overhead = _empty(announcement_id, number, at)
    for profile in profiles:
        size = len(profile.model_dump_json().encode())
        if pending and (len(pending) == max_recipients or overhead + used + 1 + size > max_bytes):
            yield _batch(pending, announcement_id, number, at, event_id, max_bytes)
            number, pending, used = number + 1, list[MailProfile](), 0
            event_id, overhead = _empty(announcement_id, number, at)
        if overhead + size > max_bytes:
            raise ValueError(f"user {profile.user_id}'s profile alone is over {max_bytes} bytes")
        used += size + (1 if pending else 0)
        pending.append(profile)
    if pending:
        yield _batch(pending, announcement_id, number, at, event_id, max_bytes)


def _empty(announcement_id: str, number: int, at: datetime) -> tuple[str, int]:
    """A new batch's event id, and the size of its event with no recipients yet."""
    event_id = str(uuid.uuid4())
    empty = recipients_event([], announcement_id=announcement_id, batch=number, at=at, event_id=event_id)
    return event_id, len(empty.to_json_bytes())


def _batch(
    profiles: list[MailProfile], announcement_id: str, number: int, at: datetime, event_id: str, max_bytes: int
) -> Batch:
    event = recipients_event(profiles, announcement_id=announcement_id, batch=number, at=at, event_id=event_id)
    body = event.to_json_bytes()
    if len(body) > max_bytes:  # the sizes above are exact; this would be a bug of ours
        raise AssertionError(f"batch {number} is {len(body)} bytes, over {max_bytes}")
    return Batch(number=number, recipients=len(profiles), event=event, body=body)
