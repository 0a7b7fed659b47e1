"""Several follows gathered into one mail: "Ana, Bo and 47 others are now following you".

A notification the scheduler sends (not an event): the follows of a busy spell, of the user's
quiet hours, or that arrived while their batching window was open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy


@dataclass(frozen=True)
class FollowerBatch:
    name: str = "follower_batch"
    policy: Policy = Policy.NOTIFICATION
    event_types: frozenset[str] = frozenset()

    def mail_for(self, event: Envelope[Any]) -> Mail:
        raise TypeError(f"{self.name} is gathered by the scheduler, not asked for by an event")


KIND = FollowerBatch()
