"""The follower e-mail of the Flask Mega-Tutorial: "<follower> is now following you!".

A notification: one mail per `user.followed` event, to the followed user, unless they turned
follow notices off; a re-follow of the same person inside the cooldown is not mailed again.
Reads version 2 of the event (the followed user's whole profile) and version 1 (address and
language only) from before profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microblog_contracts import USER_FOLLOWED, Preference, UserFollowed, UserFollowedV1
from microblog_contracts.envelope import Envelope

from notifier.kinds import Mail, Policy, Recipient


@dataclass(frozen=True)
class FollowerEmail:
    name: str = "follower_email"
    policy: Policy = Policy.NOTIFICATION
    event_types: frozenset[str] = frozenset({USER_FOLLOWED})

    def mail_for(self, event: Envelope[Any]) -> Mail:
        assert isinstance(event, UserFollowed | UserFollowedV1)
        data = event.data
        follower = data.follower
        if isinstance(event, UserFollowed):
            profile = event.data.followed
            user_id, address, nickname, locale = profile.user_id, profile.email, profile.nickname, profile.locale
        else:
            old = event.data.followed
            profile, user_id, address, nickname, locale = None, old.id, old.email, old.nickname, old.locale
        return Mail(
            kind=self.name,
            policy=self.policy,
            event_id=event.id,
            recipient=Recipient(user_id, str(address).lower(), nickname, locale),
            occurred_at=data.followed_at,
            context={"user": data.followed, "follower": follower, "event": event},
            cooldown_subject=f"{follower.id}:{user_id}",
            profile=profile,
            preference=Preference.FOLLOW_NOTICES,
            gatherable=True,
        )


KIND = FollowerEmail()
