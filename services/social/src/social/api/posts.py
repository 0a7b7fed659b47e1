"""`/api/posts` and the timelines: write a post, read one, and read everyone's, a user's or your
home timeline a page at a time, with cursors (`before` and `after`) that a new post does not move."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue

from social import posts
from social.api import bp
from social.api.auth import bearer_token, token_user
from social.api.errors import ApiError
from social.api.parsing import json_body, limit_arg
from social.api.post_schemas import AuthorOut, CursorLinks, PostCreate, PostOut, PostsPage
from social.api.users import user_or_404
from social.limits import posts_per_user
from social.models import User
from social.outbox.events import profile_url
from social.paging import BadCursor, Cursor, Page
from social.posts import Post
from social.settings import current_settings

#: The largest id an integer column holds on every database we run on (PostgreSQL's `integer`).
MAX_ID = 2**31 - 1


@bp.post("/posts")
@posts_per_user
def create_post() -> ResponseReturnValue:
    """201 with the post; 422 for an empty or too long one."""
    me = token_user()
    body = json_body(PostCreate)
    try:
        post = posts.write_post(me, body.body)
    except posts.EmptyPost:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", fields={"body": "write something"}) from None
    return post_json(post, me), 201, {"Location": url_for("api.get_post", post_id=post.id)}


@bp.get("/posts/<int:post_id>")
def get_post(post_id: int) -> ResponseReturnValue:
    bearer_token(required=False)
    found = posts.find_post(post_id) if post_id <= MAX_ID else None
    if found is None:
        raise ApiError(404, "not_found", "There is no post with that id.")
    return post_json(*found)


@bp.get("/posts")
def explore() -> ResponseReturnValue:
    """Everyone's posts, newest first."""
    bearer_token(required=False)
    before, after, limit = _page_args()
    return _page(posts.explore_timeline(before=before, after=after, limit=limit), "api.explore", limit)


@bp.get("/users/me/timeline")
def home() -> ResponseReturnValue:
    """The posts of the people you follow, and yours, newest first."""
    me = token_user()
    before, after, limit = _page_args()
    return _page(posts.home_timeline(me, before=before, after=after, limit=limit), "api.home", limit)


@bp.get("/users/<nickname>/posts")
def user_posts(nickname: str) -> ResponseReturnValue:
    user = user_or_404(nickname)
    bearer_token(required=False)
    before, after, limit = _page_args()
    page = posts.user_posts(user, before=before, after=after, limit=limit)
    return _page(page, "api.user_posts", limit, nickname=user.nickname)


def post_json(post: Post, author: User) -> dict[str, object]:
    base_url = current_settings().base_url
    out = PostOut(id=post.id, body=post.body, created_at=post.created_at, author=AuthorOut(
        id=author.id, nickname=author.nickname, avatar_url=base_url + author.avatar(128),
        profile_url=profile_url(base_url, author.nickname)))
    return out.model_dump(mode="json")


def _page_args() -> tuple[Cursor | None, Cursor | None, int]:
    cursors = []
    for name in ("before", "after"):
        raw = request.args.get(name)
        try:
            cursors.append(Cursor.decode(raw) if raw else None)
        except BadCursor:
            raise ApiError(422, "invalid_query", f"`{name}` is not a cursor from this API.",
                           fields={name: "a cursor from a page's links"}) from None
    before, after = cursors
    return before, None if before else after, limit_arg()  # `before` wins when both are given


def _page(page: Page[tuple[Post, User]], endpoint: str, limit: int, **values: Any) -> dict[str, object]:
    def link(**cursor: Any) -> str:
        return url_for(endpoint, **values, **cursor, limit=limit)

    here: dict[str, Any] = {name: value for name in ("before", "after") if (value := request.args.get(name))}
    body = PostsPage(
        items=[PostOut.model_validate(post_json(post, author)) for post, author in page.items],
        links=CursorLinks(self=link(**here), older=link(before=page.older.encode()) if page.older else None,
                          newer=link(after=page.newer.encode()) if page.newer else None),
    )
    return body.model_dump(mode="json")
