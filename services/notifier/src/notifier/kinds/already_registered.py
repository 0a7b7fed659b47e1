"""Someone signed up with an address that already has an account: its owner is told, with a link to
reset the password in case they forgot they had one (sign-up itself answers the same either way, so
it tells nobody whose address is whose).

Transactional: it goes to the account's address whatever the preferences, and never after the
reset link has expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts import EMAIL_SIGNUP_ATTEMPTED, EmailSignupAttempted
from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy, Recipient


@dataclass(frozen=True)
class AlreadyRegistered:
    name: str = "already_registered"
    policy: Policy = Policy.TRANSACTIONAL
    event_types: frozenset[str] = frozenset({EMAIL_SIGNUP_ATTEMPTED})

    def mail_for(self, event: Envelope[Any]) -> Mail:
        assert isinstance(event, EmailSignupAttempted)
        data = event.data
        profile = data.profile
        return Mail(
            kind=self.name,
            policy=self.policy,
            event_id=event.id,
            recipient=Recipient.of(profile),
            occurred_at=event.time,
            context={"user": profile, "reset_url": data.reset_url, "expires_at": data.expires_at,
                     "attempted_at": data.attempted_at},
            profile=profile,
            expires_at=data.expires_at,
        )


KIND = AlreadyRegistered()
