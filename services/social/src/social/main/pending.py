"""What happens when a page needs a login the browser no longer has.

Flask-Login would send the browser to log in and then back to the URL asked for; for a button
(a POST) that URL answers only POST, so the browser got a 405 and the follow was lost. Here a
POST comes back to the page it was pressed on instead, and a Follow pressed with a valid form
token is remembered in the session and done right after the login (:func:`complete_pending_follow`).
A Follow whose token did not hold is not done for anyone: it could have come from elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from social import follows, users
from social.extensions import login
from social.models import CannotFollowSelf, User
from social.redirects import safe_next_path
from social.translate import _

PENDING_FOLLOW = "pending_follow"


@login.unauthorized_handler  # type: ignore[untyped-decorator]
def ask_to_log_in() -> ResponseReturnValue:
    if request.method == "GET":
        flash(_("Please log in to see this page."))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    nickname = (request.view_args or {}).get("nickname")
    if request.endpoint == "main.follow" and nickname and g.get("csrf_valid", False):
        session[PENDING_FOLLOW] = nickname
        flash(_("Log in, and you will follow %(nickname)s right away.", nickname=nickname))
        return redirect(url_for("auth.login", next=url_for("main.user", nickname=nickname)))
    flash(_("Your login has ended: please log in, then try again."))
    return redirect(url_for("auth.login", next=_page_it_came_from()))


def complete_pending_follow(user: User) -> None:
    """Do the follow that was pressed while logged out, if there was one, and say so."""
    nickname = session.pop(PENDING_FOLLOW, None)
    target = users.find_by_nickname(nickname) if isinstance(nickname, str) else None
    if target is None:
        return
    try:
        follows.follow(user, target)
    except CannotFollowSelf:
        return
    flash(_("You are now following %(nickname)s.", nickname=target.nickname))


def _page_it_came_from() -> str | None:
    """The path of the page whose form was posted (the Referer, when it is this site's)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host:
        return None
    return safe_next_path(parts.path + (f"?{parts.query}" if parts.query else ""))
