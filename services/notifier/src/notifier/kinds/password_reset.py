"""The link that sets a new password, asked for on the "forgot your password?" page.

Transactional: it goes to the account's address whatever the preferences, and never after the
link (good for an hour) has expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts import PASSWORD_RESET_REQUESTED, PasswordResetRequested
from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy, Recipient


@dataclass(frozen=True)
class PasswordReset:
    name: str = "password_reset"
    policy: Policy = Policy.TRANSACTIONAL
    event_types: frozenset[str] = frozenset({PASSWORD_RESET_REQUESTED})

    def mail_for(self, event: Envelope[Any]) -> Mail:
        assert isinstance(event, PasswordResetRequested)
        data = event.data
        profile = data.profile
        return Mail(
            kind=self.name,
            policy=self.policy,
            event_id=event.id,
            recipient=Recipient.of(profile),
            occurred_at=event.time,
            context={"user": profile, "reset_url": data.reset_url, "expires_at": data.expires_at, "event": event},
            profile=profile,
            expires_at=data.expires_at,
        )


KIND = PasswordReset()
