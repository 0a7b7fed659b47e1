"""The follower e-mail of the Flask Mega-Tutorial: "<follower> is now following you!".

A notification: one mail per `user.followed` event, to the followed user; a re-follow of the same
person inside the cooldown is not mailed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts import USER_FOLLOWED, UserFollowed
from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy, Recipient


@dataclass(frozen=True)
class FollowerEmail:
    name: str = "follower_email"
    policy: Policy = Policy.NOTIFICATION
    event_types: frozenset[str] = frozenset({USER_FOLLOWED})

    def mail_for(self, event: Envelope[Any]) -> Mail:
        assert isinstance(event, UserFollowed)
        data = event.data
        followed = data.followed
        return Mail(
            kind=self.name,
            event_id=event.id,
            recipient=Recipient(followed.id, str(followed.email).lower(), followed.nickname, followed.locale),
            occurred_at=data.followed_at,
            context={"user": followed, "follower": data.follower, "event": event},
            cooldown_subject=f"{data.follower.id}:{followed.id}",
        )


KIND = FollowerEmail()
