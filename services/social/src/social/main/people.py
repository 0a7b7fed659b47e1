"""Finding people: search by nickname and everyone, newest first; a user's followers and whom
they follow."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from social import people
from social.forms import EmptyForm
from social.main import bp
from social.main.routes import user_or_404
from social.main.timelines import PER_PAGE
from social.models import User
from social.translate import _

#: Far past any real follower list; keeps the SQL OFFSET inside a bigint.
MAX_PAGE = 100_000


@bp.get("/people")
def find_people() -> ResponseReturnValue:
    """`?q=` finds people by the start of their nickname; without it, everyone, newest first."""
    query = request.args.get("q", "").strip()[: people.SEARCH_MAX]
    if query:
        found, next_after = people.search(query, after=request.args.get("after") or None, limit=PER_PAGE)
        more = {"q": query, "after": next_after} if next_after else None
    else:
        before = request.args.get("before", type=int)
        found, next_before = people.everyone(before=before, limit=PER_PAGE)
        more = {"before": str(next_before)} if next_before else None
    return render_template("main/people.html", title=_("Find people"), query=query, people=found, more=more,
                           followed=_followed(found), form=EmptyForm())


@bp.get("/user/<nickname>/followers")
def followers(nickname: str) -> ResponseReturnValue:
    profile = user_or_404(nickname)
    listed = profile.followers_page(page=_page(), per_page=PER_PAGE)
    return render_template("main/follow_list.html", title=_("Followers of %(nickname)s", nickname=profile.nickname),
                           user=profile, listed=listed, which="followers", followed=_followed(listed.items),
                           form=EmptyForm())


@bp.get("/user/<nickname>/following")
def following(nickname: str) -> ResponseReturnValue:
    profile = user_or_404(nickname)
    listed = profile.following_page(page=_page(), per_page=PER_PAGE)
    return render_template("main/follow_list.html", title=_("Followed by %(nickname)s", nickname=profile.nickname),
                           user=profile, listed=listed, which="following", followed=_followed(listed.items),
                           form=EmptyForm())


def _page() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def _followed(users: list[User]) -> set[int]:
    if not current_user.is_authenticated:
        return set()
    return people.followed_among(current_user, users)
