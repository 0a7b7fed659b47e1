"""The daily digest of new followers, at the hour the user chose in their time zone.

A notification the scheduler sends for users who want follow notices `daily`, and for the
overflow of anyone who reached the daily cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy


@dataclass(frozen=True)
class FollowerDigest:
    name: str = "follower_digest"
    policy: Policy = Policy.NOTIFICATION
    event_types: frozenset[str] = frozenset()

    def mail_for(self, event: Envelope[Any]) -> Mail:
        raise TypeError(f"{self.name} is gathered by the scheduler, not asked for by an event")


KIND = FollowerDigest()
