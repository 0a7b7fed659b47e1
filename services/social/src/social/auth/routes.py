"""Sign-up (rate limited, saying nothing of whose address is whose), login (rate limited per
client and per account) and logout (POST, so a link cannot log anyone out; it ends the session
on the server, so neither its cookie nor its remember cookie works again)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from social import sessions, users
from social.accounts import normalize_email, normalize_nickname
from social.auth import bp
from social.auth.forms import LoginForm, RegistrationForm
from social.dbtypes import utcnow
from social.extensions import db
from social.forms import EmptyForm
from social.limits import login_per_account, login_per_client, refuse_password, signup_per_client
from social.main.pending import complete_pending_follow
from social.passwords import verify_password
from social.redirects import safe_next_path
from social.translate import _


@bp.route("/register", methods=["GET", "POST"])
@signup_per_client
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        nickname, email = normalize_nickname(form.nickname.data.strip()), normalize_email(form.email.data.strip())
        try:
            users.register(nickname=nickname, email=email, password=form.password.data,
                           about_me=form.about_me.data or None, locale=form.locale.data)
        except users.NicknameTaken:
            # Lost a race with another sign-up between validation and commit.
            form.nickname.errors.append(_("That one was just taken; please pick another."))
        else:
            flash(users.signed_up_words(nickname, email))
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", title=_("Register"), form=form)


@bp.route("/login", methods=["GET", "POST"])
@login_per_client
@login_per_account
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.find_by_nickname(form.nickname.data.strip())
        if verify_password(user, form.password.data):
            assert user is not None
            sessions.open_session(user, now=utcnow())
            db.session.commit()
            login_user(user, remember=form.remember_me.data)
            complete_pending_follow(user)
            return redirect(safe_next_path(request.args.get("next")) or url_for("main.index"))
        refuse_password()
        flash(_("Invalid nickname or password."))
    return render_template("auth/login.html", title=_("Log in"), form=form)


@bp.post("/logout")
@login_required  # type: ignore[untyped-decorator]
def logout() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        sessions.end_session(current_user.session_token)
        db.session.commit()
        logout_user()
        flash(_("You are logged out."))
    return redirect(url_for("main.index"))
