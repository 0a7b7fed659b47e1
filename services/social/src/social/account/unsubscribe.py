"""One-click unsubscribe (RFC 8058) at the URL every notification mail carries.

`POST /unsubscribe/<token>` with the body `List-Unsubscribe=One-Click` turns that kind of mail
off and answers 200: mail providers send it with no cookie, login or CSRF token and follow no
redirect, so it needs none and gives none; the token is the authority. `GET` only shows a page
whose button sends the same POST.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from microblog_contracts import Preference

from social.account import bp
from social.dbtypes import utcnow
from social.extensions import csrf
from social.mail.links import unsubscribe_key
from social.mail.preferences import TURN_OFF, change_preferences
from social.mail.unsubscribe import read_unsubscribe_token
from social.models import User
from social.translate import _, _l

#: The form field and value RFC 8058 has a one-click POST carry.
ONE_CLICK = ("List-Unsubscribe", "One-Click")

KIND_WORDS = {"follow_notices": _l("mail about new followers"), "announcements": _l("announcements about Microblog")}


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    user, preference = _read(token)
    return render_template("account/unsubscribe.html", title=_("Unsubscribe"), done=False, nickname=user.nickname,
                           what=KIND_WORDS[preference.value], one_click=ONE_CLICK)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # type: ignore[untyped-decorator]
def unsubscribe(token: str) -> ResponseReturnValue:
    user, preference = _read(token)
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        abort(400, description=_("A one-click unsubscribe sends List-Unsubscribe=One-Click."))
    change_preferences(user, TURN_OFF[preference], now=utcnow())
    return render_template("account/unsubscribe.html", title=_("Unsubscribed"), done=True, nickname=user.nickname,
                           what=KIND_WORDS[preference.value], one_click=ONE_CLICK)


def _read(token: str) -> tuple[User, Preference]:
    found = read_unsubscribe_token(token, unsubscribe_key(str(current_app.secret_key)))
    if found is None:
        abort(404, description=_("This unsubscribe link is not one we sent. Check that it was copied whole."))
    return found
