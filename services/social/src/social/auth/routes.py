"""Sign-up, login (rate limited) and logout (POST, so a link cannot log anyone out)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from social import users
from social.accounts import normalize_email, normalize_nickname
from social.auth import bp
from social.auth.forms import LoginForm, RegistrationForm
from social.extensions import limiter
from social.forms import EmptyForm
from social.limits import login_rate_limit
from social.redirects import safe_next_path

#: Checked when the nickname is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = users.register(
                nickname=normalize_nickname(form.nickname.data.strip()),
                email=normalize_email(form.email.data.strip()),
                password=form.password.data,
                about_me=form.about_me.data or None,
                locale=form.locale.data,
            )
        except users.RegistrationError as exc:
            # Lost a race with another sign-up between validation and commit.
            getattr(form, exc.field).errors.append("That one was just taken; please pick another.")
        else:
            flash(f"Welcome, {user.nickname}! You can log in now. We sent a link to {user.email}: use it to "
                  "confirm your address, as we mail no notifications until then.")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", title="Register", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.find_by_nickname(form.nickname.data.strip())
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)
        elif user.check_password(form.password.data):
            login_user(user, remember=form.remember_me.data)
            return redirect(safe_next_path(request.args.get("next")) or url_for("main.index"))
        flash("Invalid nickname or password.")
    return render_template("auth/login.html", title="Log in", form=form)


@bp.post("/logout")
@login_required  # type: ignore[untyped-decorator]
def logout() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        logout_user()
        flash("You are logged out.")
    return redirect(url_for("main.index"))
