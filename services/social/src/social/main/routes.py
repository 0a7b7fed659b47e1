"""Home, profile, follow/unfollow buttons and profile editing."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from social import follows, users
from social.dbtypes import utcnow
from social.extensions import db
from social.forms import EmptyForm
from social.limits import follows_per_user
from social.mail.profiles import lock_profile, record_profile_changed
from social.main import bp
from social.main.forms import EditProfileForm
from social.models import CannotFollowSelf, User, to_the_minute

FOLLOWERS_PER_PAGE = 20
NEWEST_USERS = 20
#: Far past any real follower list; keeps the SQL OFFSET inside a bigint.
MAX_PAGE = 100_000


@bp.before_app_request
def record_last_seen() -> None:
    """Every page a logged-in user asks for moves their "last seen" forward, to the minute (more
    precision would tell others more, and cost a write per request)."""
    if current_user.is_authenticated:
        now = to_the_minute(utcnow())
        if current_user.last_seen != now:
            current_user.last_seen = now
            db.session.commit()


@bp.get("/")
def index() -> ResponseReturnValue:
    newest = db.session.scalars(select(User).order_by(User.id.desc()).limit(NEWEST_USERS)).all()
    return render_template("main/index.html", title="Home", newest=newest)


@bp.get("/user/<nickname>")
def user(nickname: str) -> ResponseReturnValue:
    profile = _user_or_404(nickname)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    followers = profile.followers_page(page=page, per_page=FOLLOWERS_PER_PAGE)
    return render_template(
        "main/user.html",
        title=profile.nickname,
        user=profile,
        followers=followers,
        form=EmptyForm(),
    )


@bp.post("/follow/<nickname>")
@login_required  # type: ignore[untyped-decorator]
@follows_per_user
def follow(nickname: str) -> ResponseReturnValue:
    target = _user_or_404(nickname)
    if EmptyForm().validate_on_submit():
        try:
            follows.follow(_me(), target)
        except CannotFollowSelf:
            flash("You cannot follow yourself!")
        else:
            flash(f"You are now following {target.nickname}.")
    return redirect(url_for("main.user", nickname=target.nickname))


@bp.post("/unfollow/<nickname>")
@login_required  # type: ignore[untyped-decorator]
@follows_per_user
def unfollow(nickname: str) -> ResponseReturnValue:
    target = _user_or_404(nickname)
    if EmptyForm().validate_on_submit():
        if target.id == current_user.id:
            flash("You cannot unfollow yourself!")
        else:
            follows.unfollow(_me(), target)
            flash(f"You are not following {target.nickname} anymore.")
    return redirect(url_for("main.user", nickname=target.nickname))


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def edit_profile() -> ResponseReturnValue:
    form = EditProfileForm()
    if form.validate_on_submit():
        me = _me()
        # The language is the mail's too: a change of it is the notifier's to know.
        mail_relevant = form.locale.data != me.locale
        if mail_relevant:
            lock_profile(me)
        me.about_me = form.about_me.data or None
        me.locale = form.locale.data
        me.show_last_seen = form.show_last_seen.data
        if mail_relevant:
            record_profile_changed(me, at=utcnow())
        db.session.commit()
        flash("Your changes have been saved.")
        return redirect(url_for("main.user", nickname=current_user.nickname))
    if request.method == "GET":
        form.about_me.data = current_user.about_me
        form.locale.data = current_user.locale
        form.show_last_seen.data = current_user.show_last_seen
    return render_template("main/edit_profile.html", title="Edit profile", form=form)


def _user_or_404(nickname: str) -> User:
    found = users.find_by_nickname(nickname)
    if found is None:
        abort(404)
    return found


def _me() -> User:
    """The logged-in user itself, not Flask-Login's proxy for it."""
    me: User = current_user._get_current_object()
    return me
