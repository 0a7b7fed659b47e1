"""An announcement: one mail an operator sends to every user who has announcements on, with
attachments (`social announce`).

Bulk mail: the bulk senders send it from the announcement's tables, under MAIL_RATE_LIMIT and after
everything else; no event asks for it one recipient at a time. Its words are the operator's, in the
variant nearest the reader's language; the layout around them is translated as every kind's is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy


@dataclass(frozen=True)
class Announcement:
    name: str = "announcement"
    policy: Policy = Policy.BULK
    event_types: frozenset[str] = frozenset()

    def mail_for(self, event: Envelope[Any]) -> Mail:
        raise TypeError(f"{self.name} is sent by the bulk senders, not asked for by an event")


KIND = Announcement()
