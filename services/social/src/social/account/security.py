"""Your password, your sessions and your account: changing the password (which ends every other
session and every API token), logging out everywhere, deleting the account."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from social import deletion, sessions
from social.account import bp
from social.account.forms import ChangePasswordForm, DeleteAccountForm
from social.dbtypes import utcnow
from social.extensions import db
from social.forms import EmptyForm
from social.limits import login_per_account, login_per_client, refuse_password
from social.models import User
from social.passwords import change_password, password_problem
from social.translate import _


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
@login_per_client  # it checks the password
@login_per_account
def password() -> ResponseReturnValue:
    me = _me()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not me.check_password(form.password.data):
            refuse_password()
            form.password.errors.append(_("That is not your password."))
        elif problem := password_problem(form.new_password.data, nickname=me.nickname, email=me.email):
            form.new_password.errors.append(problem)
        else:
            now = utcnow()
            change_password(me, form.new_password.data, now=now)
            sessions.open_session(me, now=now)  # this browser stays logged in, on a new session
            db.session.commit()
            login_user(me)
            flash(_("Your password is changed. Every other session and every API token has ended."))
            return redirect(url_for("account.password"))
    return render_template("settings/password.html", title=_("Password"), form=form)


@bp.get("/settings/sessions", endpoint="sessions")
@login_required  # type: ignore[untyped-decorator]
def sessions_page() -> ResponseReturnValue:
    return render_template("settings/sessions.html", title=_("Sessions"), form=EmptyForm())


@bp.post("/settings/sessions/revoke")
@login_required  # type: ignore[untyped-decorator]
def log_out_everywhere() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("account.sessions"))
    sessions.end_every_session(_me().id)
    db.session.commit()
    logout_user()
    flash(_("You are logged out everywhere, and every API token has ended."))
    return redirect(url_for("auth.login"))


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
@login_per_client  # it checks the password
@login_per_account
def delete_account() -> ResponseReturnValue:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        me = _me()
        if not me.check_password(form.password.data):
            refuse_password()
            form.password.errors.append(_("That is not your password."))
        else:
            deletion.delete_account(me, now=utcnow())
            logout_user()
            flash(_("Your account is deleted, with everything we kept of it."))
            return redirect(url_for("main.index"))
    return render_template("settings/delete.html", title=_("Delete your account"), form=form)


def _me() -> User:
    me: User = current_user._get_current_object()
    return me
