"""What the ledger keeps, as values: the key of a delivery, the last notice about a subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from microblog_contracts import MailProfile


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """One mail: an event, to a recipient, of a kind."""

    event_id: str
    recipient: str
    kind: str


@dataclass(frozen=True, slots=True)
class NoticeKey:
    """What a run of mails of one kind is about (a follower and the user they follow)."""

    kind: str
    subject: str


@dataclass(frozen=True, slots=True)
class Notice:
    """The last mail of a kind about a subject: which event, and when it happened."""

    key: NoticeKey
    event_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A mail the SMTP server accepted."""

    key: DeliveryKey
    message_id: str
    delivered_at: datetime
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class SkipRecord:
    """A mail deliberately not sent, and why."""

    event_id: str
    kind: str
    user_id: int | None
    recipient_domain: str | None
    reason: str
    detail: str | None
    skipped_at: datetime


@dataclass(frozen=True, slots=True)
class SuppressionRecord:
    """An address the SMTP server refused for good."""

    address: str
    user_id: int | None
    suppressed_at: datetime
    reply: str
    event_id: str


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """A user's mail profile as `user.profile_changed` told it."""

    profile: MailProfile
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """A follow notice to send later (after its grace, in a batch, a digest, after quiet hours)."""

    event_id: str
    user_id: int
    follower_id: int
    follower: str  # the Follower as JSON, for the mail that names them
    followed_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class UnfollowRecord:
    """A follow undone: a waiting notice of an older follow of the pair is not sent."""

    follower_id: int
    user_id: int
    unfollowed_at: datetime


@dataclass(frozen=True, slots=True)
class ForgetRecord:
    """A user deleted their account: forget their address and everything kept about them (their
    profile, deliveries, waiting notices, suppression, skips), and keep only that the id is gone."""

    user_id: int
    deleted_at: datetime


#: Everything the ledger's group commit writes.
LedgerRecord = (DeliveryRecord | SkipRecord | SuppressionRecord | ProfileRecord | NoticeRecord | UnfollowRecord
                | ForgetRecord)


@dataclass(frozen=True, slots=True)
class FactsQuery:
    """What to look up before a mail goes out (one round trip to the database)."""

    key: DeliveryKey
    notice_key: NoticeKey | None = None
    #: The recipient's user id, for their latest profile.
    user_id: int | None = None
    #: The address, for a suppression and (with `sent_since`) the daily cap.
    address: str | None = None
    #: Count the notifications (of `cap_kinds`) mailed to `address` since then.
    sent_since: datetime | None = None
    cap_kinds: tuple[str, ...] = ()
    #: Users the mail is to or about (its recipient, a follower): is any of them deleted?
    people: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What the ledger knows before a mail goes out."""

    delivered: bool
    notice: Notice | None = None
    profile: MailProfile | None = None
    suppressed_at: datetime | None = None
    sent_recently: int = 0
    #: The state of this event's notice, if it is gathered or waiting (a replay finds it here).
    notice_state: str | None = None
    #: Those of the query's `people` who deleted their account.
    deleted: frozenset[int] = frozenset()
