"""Password reset pages, as in the Flask Mega-Tutorial: ask with an address, get a link, set a
new password. Asking answers the same whether or not the address has an account."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from social.account import bp
from social.account.address import link_problem
from social.account.forms import ResetPasswordForm, ResetPasswordRequestForm
from social.dbtypes import utcnow
from social.limits import reset_per_address, reset_per_client
from social.mail import resets
from social.mail.confirmations import LinkRefused
from social.translate import _, _l

#: The one answer to every request, whether or not the address has an account.
RESET_REQUESTED = _l("If that address belongs to an account, we have sent it a link to reset the password. "
                     "The link works for an hour.")


@bp.route("/reset_password_request", methods=["GET", "POST"])
@reset_per_client
@reset_per_address
def reset_password_request() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = ResetPasswordRequestForm()
    if form.validate_on_submit():
        resets.request_reset(form.email.data, now=utcnow())
        flash(str(RESET_REQUESTED))
        return redirect(url_for("auth.login"))
    return render_template("account/reset_request.html", title=_("Reset your password"), form=form)


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    try:
        _link, user = resets.find_reset(token, now=utcnow())
    except LinkRefused as exc:
        return link_problem(exc, reset=True)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            resets.reset_password(token, form.password.data, now=utcnow())
        except LinkRefused as exc:
            return link_problem(exc, reset=True)
        except resets.PasswordRefused as exc:
            form.password.errors.append(str(exc))
        else:
            flash(_("Your password has been reset, and every session and API token ended: log in with the new one."))
            return redirect(url_for("auth.login"))
    return render_template("account/reset_password.html", title=_("Set a new password"), form=form,
                           nickname=user.nickname)
