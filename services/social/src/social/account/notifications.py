"""`/settings/notifications`: what a user wants to be mailed about, and what became of their
recent mail (sent, or not and why)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from social.account import bp
from social.account.forms import NotificationsForm
from social.dbtypes import utcnow
from social.mail.history import recent_mail
from social.mail.preferences import PreferencesChange, change_preferences, preferences_of
from social.models import User


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def notifications() -> ResponseReturnValue:
    me: User = current_user._get_current_object()
    form = NotificationsForm()
    if form.validate_on_submit():
        change = PreferencesChange(follow_notices=form.follow_notices.data, announcements=form.announcements.data)
        if change_preferences(me, change, now=utcnow()):
            flash("Your notification settings have been saved.")
        return redirect(url_for("account.notifications"))
    if request.method == "GET":
        current = preferences_of(me)
        form.follow_notices.data = current.follow_notices.value
        form.announcements.data = current.announcements
    return render_template("account/notifications.html", title="Notifications", form=form,
                           mail=recent_mail(me.id, now=utcnow()))
