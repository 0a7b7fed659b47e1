"""Following and unfollowing: the one place a follow is written, with its outbox event.

The follow row and its `user.followed` event (`user.unfollowed` when it is undone) are added to
one transaction and committed together, so an event exists exactly when the change does. Nothing
here talks to RabbitMQ or SMTP: the relay publishes the event after the commit.
"""

from __future__ import annotations

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from social.dbtypes import utcnow
from social.extensions import db
from social.mail.links import current_links
from social.mail.profiles import mail_profile
from social.models import CannotFollowSelf, User
from social.outbox.events import user_followed_event, user_unfollowed_event
from social.outbox.models import record_event

__all__ = ["CannotFollowSelf", "follow", "unfollow"]

log = structlog.get_logger("social.follows")


def follow(follower: User, followed: User) -> bool:
    """Make `follower` follow `followed` and commit; True if this created the follow.

    Raises :class:`CannotFollowSelf`. Following someone already followed changes and emits
    nothing, also when two identical requests race: the loser's insert breaks the follow's
    primary key and its whole transaction, event included, is rolled back.
    """
    try:
        if not follower.follow(followed):
            return False
        try:
            links = current_links()
            event = user_followed_event(follower, mail_profile(followed, links), base_url=links.base_url, at=utcnow())
        except ValidationError as exc:
            # Only an account made around sign-up's checks can get here (say, an address no
            # mail can go to): the follow stands, there is just nothing to tell anyone.
            log.warning("follow_without_event", follower=follower.id, followed=followed.id,
                        reason=exc.errors()[0]["msg"][:200])
        else:
            record_event(event)
        db.session.commit()  # the insert may also fail earlier, at the autoflush
    except IntegrityError:
        db.session.rollback()
        if follower.is_following(followed):
            return False
        raise
    return True


def unfollow(follower: User, followed: User) -> bool:
    """Make `follower` stop following `followed` and commit; False if they were not."""
    if not follower.unfollow(followed):
        return False
    record_event(user_unfollowed_event(follower.id, followed.id, at=utcnow()))
    db.session.commit()
    return True
