"""Confirming an address from its link, and the page where a user changes theirs or asks again.

`GET /confirm/<token>` only shows a button: mail scanners fetch links, and a fetch must not
confirm anything. The button POSTs (with CSRF) and confirms; no login is needed.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from social.account import bp
from social.account.forms import ChangeEmailForm
from social.dbtypes import utcnow
from social.forms import EmptyForm
from social.limits import login_per_account, login_per_client, refuse_password
from social.mail import addresses, confirmations
from social.mail.confirmations import LinkRefused
from social.models import User


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    try:
        link = confirmations.find_confirmation(token, now=utcnow())
    except LinkRefused as exc:
        return link_problem(exc, again=True)
    return render_template("account/confirm.html", title="Confirm your address", address=link.address,
                           nickname=link.user.nickname, form=EmptyForm())


@bp.post("/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("account.confirm_page", token=token))
    try:
        user = confirmations.confirm(token, now=utcnow())
    except LinkRefused as exc:
        return link_problem(exc, again=True)
    except confirmations.AddressTaken:
        return render_template("account/link_problem.html", title="Address in use",
                               message="That address now belongs to another account.", again=True), 409
    flash(f"Thank you: {user.email} is confirmed.")
    return redirect(url_for("account.email_settings" if current_user.is_authenticated else "main.index"))


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
@login_per_client  # it checks the password
@login_per_account
def email_settings() -> ResponseReturnValue:
    me = _me()
    form = ChangeEmailForm()
    if form.validate_on_submit():
        if not me.check_password(form.password.data):
            refuse_password()
            form.password.errors.append("That is not your password.")
        else:
            try:
                change = addresses.change_address(me, form.email.data, now=utcnow())
            except addresses.TooManyLinks as exc:
                flash(f"We have sent you several links already; please try again in {_minutes(exc.retry_after)}.")
            else:
                if change is addresses.AddressChange.UNCHANGED:
                    flash(f"Your address stays {me.email}.")
                else:
                    flash(f"We sent a link to {form.email.data}: your mail moves there once you use it.")
                return redirect(url_for("account.email_settings"))
    return render_template("account/email.html", title="Your e-mail address", form=form, again=EmptyForm())


@bp.post("/settings/email/confirmation")
@login_required  # type: ignore[untyped-decorator]
def ask_again() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        me = _me()
        try:
            addresses.ask_again(me, now=utcnow())
        except addresses.AlreadyConfirmed:
            flash(f"{me.email} is confirmed already.")
        except addresses.TooManyLinks as exc:
            flash(f"We have sent you several links already; please try again in {_minutes(exc.retry_after)}.")
        else:
            flash(f"We sent a new link to {me.pending_email or me.email}.")
    return redirect(url_for("account.email_settings"))


def link_problem(exc: LinkRefused, *, again: bool = False, reset: bool = False) -> ResponseReturnValue:
    """The page for a link that does not work, with its status (404 unknown, 410 gone)."""
    page = render_template("account/link_problem.html", title="This link does not work",
                           message=exc.problem.words, again=again, reset=reset)
    return page, exc.problem.status


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _me() -> User:
    me: User = current_user._get_current_object()
    return me
