"""The Follow and Unfollow buttons.

Plain forms that post and come back to the profile; with JavaScript on, static/social.js posts
the same form and asks for JSON (`Accept: application/json`), and updates the button and the
count in place, and the page's form tokens (one that expired is answered "please try again" and a
fresh token, so the second press works). A follow pressed after the login ended is remembered
(:mod:`social.main.pending`) and done once the user has logged in again.
"""

from __future__ import annotations

from flask import flash, get_template_attribute, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from social import follows
from social.forms import EmptyForm
from social.limits import follows_per_user
from social.main import bp
from social.main.routes import user_or_404
from social.models import CannotFollowSelf, User
from social.redirects import safe_next_path
from social.translate import _


@bp.post("/follow/<nickname>")
@login_required  # type: ignore[untyped-decorator]
@follows_per_user
def follow(nickname: str) -> ResponseReturnValue:
    target = user_or_404(nickname)
    if not EmptyForm().validate_on_submit():
        return _answer(target, _("Please try again: the page was open too long."), ok=False)
    try:
        follows.follow(_me(), target)
    except CannotFollowSelf:
        return _answer(target, _("You cannot follow yourself!"), ok=False)
    return _answer(target, _("You are now following %(nickname)s.", nickname=target.nickname))


@bp.post("/unfollow/<nickname>")
@login_required  # type: ignore[untyped-decorator]
@follows_per_user
def unfollow(nickname: str) -> ResponseReturnValue:
    target = user_or_404(nickname)
    if not EmptyForm().validate_on_submit():
        return _answer(target, _("Please try again: the page was open too long."), ok=False)
    if target.id == current_user.id:
        return _answer(target, _("You cannot unfollow yourself!"), ok=False)
    follows.unfollow(_me(), target)
    return _answer(target, _("You are not following %(nickname)s anymore.", nickname=target.nickname))


def _answer(target: User, message: str, *, ok: bool = True) -> ResponseReturnValue:
    """JSON for the script (the new state, to show in place), else a message and the profile."""
    if request.accept_mimetypes.best == "application/json":
        following = current_user.is_following(target)
        count = target.follower_count()
        counter = get_template_attribute("_macros.html", "follower_count")
        # A fresh form token with every answer: when the page's has expired, the next press works.
        return jsonify(
            ok=ok, message=message, following=following, user=target.id, followers=count, csrf_token=generate_csrf(),
            followers_html=str(counter(count)),
            action=url_for("main.unfollow" if following else "main.follow", nickname=target.nickname),
            label=_("Unfollow") if following else _("Follow"),
            aria_label=(_("Unfollow %(nickname)s", nickname=target.nickname) if following
                        else _("Follow %(nickname)s", nickname=target.nickname)),
        ), 200 if ok else 409
    flash(message)
    return redirect(_back(target))


def _back(target: User) -> str:
    """Back to the list the button was pressed in, or else to the profile."""
    return safe_next_path(request.form.get("next")) or url_for("main.user", nickname=target.nickname)


def _me() -> User:
    me: User = current_user._get_current_object()
    return me
