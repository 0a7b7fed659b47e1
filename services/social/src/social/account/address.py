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
from social.translate import _, ngettext


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    try:
        link = confirmations.find_confirmation(token, now=utcnow())
    except LinkRefused as exc:
        return link_problem(exc, again=True)
    return render_template("account/confirm.html", title=_("Confirm your address"), address=link.address,
                           nickname=link.user.nickname, form=EmptyForm())


@bp.post("/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        flash(_("Please try again: the page was open too long."))
        return redirect(url_for("account.confirm_page", token=token))
    try:
        user = confirmations.confirm(token, now=utcnow())
    except LinkRefused as exc:
        return link_problem(exc, again=True)
    except confirmations.AddressTaken:
        return render_template("account/link_problem.html", title=_("Address in use"),
                               message=_("That address now belongs to another account."), again=True), 409
    flash(_("Thank you: %(address)s is confirmed.", address=user.email))
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
            form.password.errors.append(_("That is not your password."))
        else:
            try:
                change = addresses.change_address(me, form.email.data, now=utcnow())
            except addresses.TooManyLinks as exc:
                flash(_too_many(exc.retry_after))
            else:
                if change is addresses.AddressChange.UNCHANGED:
                    flash(_("Your address stays %(address)s.", address=me.email))
                else:
                    flash(_("We sent a link to %(address)s: your mail moves there once you use it.",
                            address=form.email.data))
                return redirect(url_for("account.email_settings"))
    return render_template("settings/email.html", title=_("E-mail"), form=form, again=EmptyForm())


@bp.post("/settings/email/confirmation")
@login_required  # type: ignore[untyped-decorator]
def ask_again() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        me = _me()
        try:
            addresses.ask_again(me, now=utcnow())
        except addresses.AlreadyConfirmed:
            flash(_("%(address)s is confirmed already.", address=me.email))
        except addresses.TooManyLinks as exc:
            flash(_too_many(exc.retry_after))
        else:
            flash(_("We sent a new link to %(address)s.", address=me.pending_email or me.email))
    return redirect(url_for("account.email_settings"))


def link_problem(exc: LinkRefused, *, again: bool = False, reset: bool = False) -> ResponseReturnValue:
    """The page for a link that does not work, with its status (404 unknown, 410 gone)."""
    page = render_template("account/link_problem.html", title=_("This link does not work"),
                           message=exc.problem.words, again=again, reset=reset)
    return page, exc.problem.status


def _too_many(retry_after: int) -> str:
    return _("We have sent you several links already; please try again in %(minutes)s.", minutes=_minutes(retry_after))


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _me() -> User:
    me: User = current_user._get_current_object()
    return me
