"""Home, explore, profiles and posting."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from social import posts, users
from social.dbtypes import utcnow
from social.extensions import db
from social.forms import EmptyForm
from social.limits import posts_per_user
from social.main import bp
from social.main.forms import PostForm
from social.main.timelines import PER_PAGE, page_cursors
from social.models import User, to_the_minute
from social.translate import _


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
    """A logged-in user's home timeline (the people they follow, and their own posts); for
    anyone else, a welcome and what everyone is writing."""
    before, after = page_cursors()
    if current_user.is_authenticated:
        timeline = posts.home_timeline(_me(), before=before, after=after, limit=PER_PAGE)
        return render_template("main/home.html", title=_("Home"), timeline=timeline, form=PostForm())
    timeline = posts.explore_timeline(limit=5)
    return render_template("main/welcome.html", title=_("Welcome"), timeline=timeline)


@bp.get("/explore")
def explore() -> ResponseReturnValue:
    before, after = page_cursors()
    timeline = posts.explore_timeline(before=before, after=after, limit=PER_PAGE)
    return render_template("main/explore.html", title=_("Explore"), timeline=timeline)


@bp.post("/post")
@login_required  # type: ignore[untyped-decorator]
@posts_per_user
def write_post() -> ResponseReturnValue:
    form = PostForm()
    if form.validate_on_submit():
        try:
            posts.write_post(_me(), form.post.data)
        except posts.EmptyPost:
            form.post.errors.append(_("Write something first."))
        else:
            flash(_("Your post is live."))
            return redirect(url_for("main.index"))
    timeline = posts.home_timeline(_me(), limit=PER_PAGE)
    return render_template("main/home.html", title=_("Home"), timeline=timeline, form=form), 422


@bp.get("/user/<nickname>")
def user(nickname: str) -> ResponseReturnValue:
    profile = user_or_404(nickname)
    before, after = page_cursors()
    timeline = posts.user_posts(profile, before=before, after=after, limit=PER_PAGE)
    return render_template("main/user.html", title=profile.nickname, user=profile, timeline=timeline,
                           post_count=posts.post_count(profile), form=EmptyForm())


@bp.get("/edit_profile")
def edit_profile() -> ResponseReturnValue:
    """The tutorial's address of the profile editor, kept for bookmarks."""
    return redirect(url_for("account.profile"), code=301)


def user_or_404(nickname: str) -> User:
    found = users.find_by_nickname(nickname)
    if found is None:
        abort(404, description=_("There is nobody with that nickname here."))
    return found


def _me() -> User:
    """The logged-in user itself, not Flask-Login's proxy for it."""
    me: User = current_user._get_current_object()
    return me
