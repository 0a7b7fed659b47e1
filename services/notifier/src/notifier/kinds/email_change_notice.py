"""The notice to an address that its account is moving to another one ("your address was
changed"), so its owner learns of a change they did not make.

Transactional: it goes to the old address, which keeps getting mail until the new one is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts import EMAIL_CHANGE_REQUESTED, EmailChangeRequested
from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy, Recipient


@dataclass(frozen=True)
class EmailChangeNotice:
    name: str = "email_change_notice"
    policy: Policy = Policy.TRANSACTIONAL
    event_types: frozenset[str] = frozenset({EMAIL_CHANGE_REQUESTED})

    def mail_for(self, event: Envelope[Any]) -> Mail:
        assert isinstance(event, EmailChangeRequested)
        data = event.data
        profile = data.profile
        return Mail(
            kind=self.name,
            policy=self.policy,
            event_id=event.id,
            recipient=Recipient.of(profile, data.old_address),
            occurred_at=data.requested_at,
            context={"user": profile, "old_address": data.old_address, "new_address": data.new_address,
                     "requested_at": data.requested_at, "event": event},
            profile=profile,
        )


KIND = EmailChangeNotice()
