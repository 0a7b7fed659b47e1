"""Mail kinds: what the notifier sends, one module each.

A kind says which event types it handles, who gets the mail and what its templates see, and its
policy (a transactional mail the user asked for, or a notification they may turn off). Its
templates live in `templates/<kind name>/` (`subject.txt`, `body.txt`, `body.html`). Adding a kind
is a module here that defines `KIND`, its templates, and the contract of its event: the ledger
key, metrics labels, dead-letter headers, replay tools, log lines and queue bindings follow from
the registry built below.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from microblog_contracts import MailProfile, Preference
from microblog_contracts.envelope import Envelope


class Policy(enum.StrEnum):
    """How a kind of mail is treated on its way out.

    A transactional mail was asked for by its recipient (a confirmation link, a password reset):
    it goes even to an unconfirmed or once-refused address, and never after its link expired. A
    notification tells of something that happened: it goes only to a confirmed address that has
    not been refused, when its recipient has not turned it off, and within the daily cap. Bulk mail
    (an announcement) goes like a notification, but under MAIL_RATE_LIMIT and after other mail.
    """

    TRANSACTIONAL = "transactional"
    NOTIFICATION = "notification"
    BULK = "bulk"  # an announcement to many: rate limited, and after everything else


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a mail goes to, as the event names them."""

    user_id: int
    address: str
    nickname: str
    locale: str

    @classmethod
    def of(cls, profile: MailProfile, address: str | None = None) -> Recipient:
        """The user `profile` describes, at their address (or `address`, one of theirs not yet, or
        no longer, in the profile), lower-cased as the ledger keys it."""
        return cls(profile.user_id, str(address or profile.email).lower(), profile.nickname, profile.locale)

    @property
    def domain(self) -> str:
        """What logs may say about the address: its domain, never the whole of it."""
        return self.address.rsplit("@", 1)[-1]


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail a kind asks for: to whom, about what, and what its templates see.

    Every kind's templates see the recipient's profile as `user` (for a notification, the latest
    the notifier knows when the mail goes), besides what the kind adds.
    """

    kind: str
    policy: Policy
    event_id: str
    recipient: Recipient
    occurred_at: datetime
    context: Mapping[str, Any] = field(default_factory=dict)
    #: Mails of one kind about the same subject inside the cooldown are sent once (a re-follow).
    cooldown_subject: str | None = None
    #: The recipient's profile as the event saw it (None for events from before profiles).
    profile: MailProfile | None = None
    #: The preference that turns this kind of mail off (notifications).
    preference: Preference | None = None
    #: A link in the mail stops working then: it is not sent after (transactional mail).
    expires_at: datetime | None = None
    #: A follow notice: it may wait (a grace, a batch, a digest, quiet hours) and go gathered.
    gatherable: bool = False

    def for_profile(self, profile: MailProfile) -> Mail:
        """This mail to the recipient as `profile` (newer than the event's) describes them."""
        return replace(self, recipient=Recipient.of(profile), profile=profile,
                       context={**self.context, "user": profile})

    def list_headers(self, domain: str) -> list[tuple[str, str]]:
        """RFC 8058 one-click unsubscribe and RFC 2919 List-Id, for a notification with a link."""
        url = self.unsubscribe_url
        if url is None or self.preference is None:
            return []
        words = self.preference.value.replace("_", " ")
        return [
            ("List-Id", f"Microblog {words} <{self.preference.value.replace('_', '-')}.{domain}>"),
            ("List-Unsubscribe", f"<{url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]

    @property
    def unsubscribe_url(self) -> str | None:
        """The one-click unsubscribe link for this mail's preference, if it has one."""
        if self.profile is None or self.preference is None:
            return None
        url = self.profile.unsubscribe_urls.get(self.preference)
        return str(url) if url is not None else None


class MailKind(Protocol):
    """What every kind module's `KIND` provides."""

    @property
    def name(self) -> str:
        """The kind's stable name: ledger key, metric label, header value, template folder."""

    @property
    def policy(self) -> Policy: ...

    @property
    def event_types(self) -> frozenset[str]:
        """The event types (routing keys) this kind mails about."""

    def mail_for(self, event: Envelope[Any]) -> Mail:
        """The mail `event` asks for (the event is of one of :attr:`event_types`)."""


class KindRegistry:
    """The kinds a notifier knows, found by the event type they handle."""

    def __init__(self, kinds: Iterable[MailKind]) -> None:
        self.kinds: tuple[MailKind, ...] = tuple(kinds)
        by_type: dict[str, MailKind] = {}
        for kind in self.kinds:
            for event_type in kind.event_types:
                if event_type in by_type:
                    raise ValueError(f"{event_type} is claimed by both {by_type[event_type].name} and {kind.name}")
                by_type[event_type] = kind
        self._by_type: Mapping[str, MailKind] = by_type

    def for_event(self, event_type: str) -> MailKind | None:
        return self._by_type.get(event_type)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_type))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(kind.name for kind in self.kinds)


def discover() -> KindRegistry:
    """Every kind module in this package (each defines `KIND`), in name order."""
    kinds = [importlib.import_module(f"{__name__}.{info.name}").KIND
             for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)]
    return KindRegistry(kinds)
