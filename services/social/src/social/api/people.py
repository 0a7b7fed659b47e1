"""`GET /api/users`: find people by the start of their nickname (`?q=`), or everyone, newest
first; `GET /api/users/<nickname>/following`: whom a user follows."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue

from social import people
from social.api import bp
from social.api.auth import bearer_token
from social.api.errors import ApiError
from social.api.parsing import limit_arg, page_args
from social.api.post_schemas import UsersFound
from social.api.schemas import FollowersPage, PageLinks
from social.api.users import public_user, user_or_404


@bp.get("/users")
def find_users() -> ResponseReturnValue:
    bearer_token(required=False)
    limit = limit_arg()
    query = request.args.get("q", "").strip()
    if len(query) > people.SEARCH_MAX:
        raise ApiError(422, "invalid_query", f"`q` has at most {people.SEARCH_MAX} characters.",
                       fields={"q": f"at most {people.SEARCH_MAX} characters"})
    before_raw = request.args.get("before")
    if before_raw is not None and not (before_raw.isdigit() and 0 < int(before_raw) <= 2**31 - 1):
        raise ApiError(422, "invalid_query", "`before` is a user id from a page's links.",
                       fields={"before": "a user id"})
    if query:
        found, after = people.search(query, after=request.args.get("after") or None, limit=limit)
        following: dict[str, Any] | None = {"q": query, "after": after} if after else None
        here: dict[str, Any] = {"q": query, **({"after": a} if (a := request.args.get("after")) else {})}
    else:
        found, before = people.everyone(before=int(before_raw) if before_raw else None, limit=limit)
        following = {"before": str(before)} if before else None
        here = {"before": before_raw} if before_raw else {}
    body = UsersFound(
        items=[public_user(user) for user in found],
        links=PageLinks(self=url_for("api.find_users", **here, limit=limit),
                        next=url_for("api.find_users", **following, limit=limit) if following else None, prev=None),
    )
    return body.model_dump(mode="json", exclude_unset=True)


@bp.get("/users/<nickname>/following")
def get_following(nickname: str) -> ResponseReturnValue:
    """Whom the user follows, newest follow first: the same pages as their followers."""
    user = user_or_404(nickname)
    bearer_token(required=False)
    page, per_page = page_args()
    listed = user.following_page(page=page, per_page=per_page)

    def link(to_page: int | None) -> str | None:
        if to_page is None:
            return None
        return url_for("api.get_following", nickname=user.nickname, page=to_page, per_page=per_page)

    body = FollowersPage(
        items=[public_user(followed) for followed in listed.items], page=page, per_page=per_page,
        total=listed.total or 0, pages=listed.pages,
        links=PageLinks(self=str(link(page)), next=link(listed.next_num), prev=link(listed.prev_num)),
    )
    return body.model_dump(mode="json", exclude_unset=True)
