"""`/settings/notifications`: what a user wants to be mailed about and when, and what became of
their recent mail (sent, or not and why), in their time zone."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from social.account import bp
from social.account.notifications_form import NotificationsForm
from social.accounts import time_zone_names
from social.dbtypes import utcnow
from social.mail.history import recent_mail
from social.mail.preferences import change_preferences, preferences_of
from social.models import User
from social.settings import current_settings
from social.translate import _


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def notifications() -> ResponseReturnValue:
    me: User = current_user._get_current_object()
    form = NotificationsForm(default_mode=current_settings().follow_notice_default)
    if form.validate_on_submit():
        change = form.change()
        if change is not None:
            if change_preferences(me, change, now=utcnow()):
                flash(_("Your notification settings have been saved."))
            return redirect(url_for("account.notifications"))
    elif not form.is_submitted():
        form.show(preferences_of(me))
    return render_template("settings/notifications.html", title=_("Notifications"), form=form,
                           time_zones=time_zone_names(), mail=recent_mail(me, now=utcnow()))
