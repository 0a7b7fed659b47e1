"""`/api/users/me/following/<nickname>`: follow (PUT) and unfollow (DELETE), both idempotent."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from social import follows
from social.api import bp
from social.api.auth import token_user
from social.api.errors import ApiError
from social.api.users import user_or_404
from social.limits import follows_per_user
from social.models import CannotFollowSelf


@bp.put("/users/me/following/<nickname>")
@follows_per_user
def follow(nickname: str) -> ResponseReturnValue:
    """204 whether the follow is new or not; 422 for following yourself."""
    me = token_user()
    target = user_or_404(nickname)
    try:
        follows.follow(me, target)
    except CannotFollowSelf:
        raise ApiError(422, "cannot_follow_self", "You cannot follow yourself.") from None
    return "", 204


@bp.delete("/users/me/following/<nickname>")
@follows_per_user
def unfollow(nickname: str) -> ResponseReturnValue:
    """204 whether there was a follow to remove or not (also for yourself: there never is)."""
    me = token_user()
    target = user_or_404(nickname)
    follows.unfollow(me, target)
    return "", 204
