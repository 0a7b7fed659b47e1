"""`/settings/profile`: about me, the language of the pages and mail, the time zone every time is
shown in, and whether others see when you were last here. `/settings` opens it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from social.account import bp
from social.accounts import ABOUT_ME_MAX, time_zone_names
from social.dbtypes import utcnow
from social.extensions import db
from social.forms import NoControlCharacters, locale_choices
from social.mail.preferences import PreferencesChange
from social.mail.profiles import lock_profile, record_profile_changed
from social.models import User
from social.translate import _, _l


class ProfileForm(FlaskForm):  # type: ignore[misc]
    about_me = TextAreaField(_l("About me"), validators=[Optional(), Length(max=ABOUT_ME_MAX), NoControlCharacters()])
    locale = SelectField(_l("Language"), choices=locale_choices())
    time_zone = StringField(_l("Time zone"), description=_l(
        "Type to search, e.g. Europe/Berlin or Asia/Shanghai. Times on the pages and in your mail are in it."))
    show_last_seen = BooleanField(_l("Show others when I was last here"))


@bp.get("/settings")
@login_required  # type: ignore[untyped-decorator]
def settings() -> ResponseReturnValue:
    return redirect(url_for("account.profile"))


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def profile() -> ResponseReturnValue:
    me: User = current_user._get_current_object()
    form = ProfileForm()
    if form.validate_on_submit():
        zone = (form.time_zone.data or "").strip()
        try:
            PreferencesChange(time_zone=zone)
        except ValidationError:
            form.time_zone.errors.append(_("Not a time zone we know: give an IANA name such as Europe/Berlin."))
        else:
            _save(me, form, zone)
            flash(_("Your changes have been saved."))
            return redirect(url_for("account.profile"))
    elif request.method == "GET":
        form.about_me.data = me.about_me
        form.locale.data = me.locale
        form.time_zone.data = me.time_zone
        form.show_last_seen.data = me.show_last_seen
    return render_template("settings/profile.html", title=_("Profile"), form=form, time_zones=time_zone_names())


def _save(me: User, form: ProfileForm, zone: str) -> None:
    # The language and the time zone are the mail's too: a change of either is the notifier's to know.
    mail_relevant = form.locale.data != me.locale or zone != me.time_zone
    if mail_relevant:
        lock_profile(me)
    me.about_me = form.about_me.data or None
    me.locale = form.locale.data
    me.time_zone = zone
    me.show_last_seen = form.show_last_seen.data
    if mail_relevant:
        record_profile_changed(me, at=utcnow())
    db.session.commit()
