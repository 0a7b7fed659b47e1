"""The link that confirms an address: at sign-up, after a change of address, or asked for again.

Transactional: it goes to the address being confirmed (during a change, the new one, which the
profile does not hold yet), whatever the preferences, and never after the link has expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts import EMAIL_CONFIRMATION_REQUESTED, EmailConfirmationRequested
from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy, Recipient


@dataclass(frozen=True)
class EmailConfirmation:
    name: str = "email_confirmation"
    policy: Policy = Policy.TRANSACTIONAL
    event_types: frozenset[str] = frozenset({EMAIL_CONFIRMATION_REQUESTED})

    def mail_for(self, event: Envelope[Any]) -> Mail:
        assert isinstance(event, EmailConfirmationRequested)
        data = event.data
        profile = data.profile
        return Mail(
            kind=self.name,
            policy=self.policy,
            event_id=event.id,
            recipient=Recipient.of(profile, data.address),
            occurred_at=event.time,
            context={"user": profile, "address": data.address, "confirm_url": data.confirm_url,
                     "expires_at": data.expires_at, "purpose": data.purpose, "event": event},
            profile=profile,
            expires_at=data.expires_at,
        )


KIND = EmailConfirmation()
