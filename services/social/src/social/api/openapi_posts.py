"""The OpenAPI paths of posts, timelines and finding people."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from social.api.openapi_parts import BEARER, NICKNAME_PARAM, OPTIONAL_BEARER, json_response, operation
from social.api.parsing import DEFAULT_PER_PAGE, MAX_PER_PAGE
from social.api.post_schemas import PostCreate, PostOut, PostsPage, UsersFound

POST_MODELS: list[type[BaseModel]] = [PostCreate, PostOut, PostsPage, UsersFound]

_LIMIT = {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}}
_CURSORS = [
    {"name": "before", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The page of posts older than this cursor (`links.older` of a page)."},
    {"name": "after", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The page of posts newer than this cursor (`links.newer` of a page); `before` wins when "
                    "both are given."},
    _LIMIT,
]
_TIMELINE_OK = {200: json_response("One page of posts, newest first.", PostsPage)}


def post_paths() -> dict[str, Any]:
    return {
        "/api/posts": {
            "post": operation(
                "createPost", "Write a post",
                description="Up to 280 characters. Posts send no mail. Rate limited per user (`POST_RATE_LIMIT`).",
                request=PostCreate, security=BEARER,
                ok={201: json_response("The post; `Location` is its address.", PostOut)},
                errors=(400, 401, 413, 422, 429)),
            "get": operation(
                "explore", "Everyone's posts, newest first",
                description="Pages by cursor: a post written meanwhile never moves another from one page to the next.",
                params=_CURSORS, security=OPTIONAL_BEARER, ok=_TIMELINE_OK, errors=(401, 422)),
        },
        "/api/posts/{post_id}": {
            "get": operation(
                "getPost", "One post",
                params=[{"name": "post_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
                security=OPTIONAL_BEARER, ok={200: json_response("The post.", PostOut)},
                errors={401: "Missing, wrong, revoked or expired credentials.", 404: "No post has that id."}),
        },
        "/api/users/me/timeline": {
            "get": operation(
                "homeTimeline", "Your home timeline: the people you follow, and you",
                params=_CURSORS, security=BEARER, ok=_TIMELINE_OK, errors=(401, 422)),
        },
        "/api/users/{nickname}/posts": {
            "get": operation(
                "getUserPosts", "A user's posts, newest first",
                params=[NICKNAME_PARAM, *_CURSORS], security=OPTIONAL_BEARER, ok=_TIMELINE_OK,
                errors=(401, 404, 422)),
        },
    }


def people_get() -> dict[str, Any]:
    """`GET /api/users`, beside the sign-up's `POST`."""
    return operation(
        "findUsers", "Find people by the start of their nickname, or list everyone",
        description="With `q`: nicknames that start with it, whatever its case or width (fullwidth "
        "`\\uff33\\uff35` finds `susan`), by nickname; the next page is `links.next`. Without: everyone, newest first.",
        params=[{"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 64}},
                {"name": "after", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "With `q`: from `links.next`."},
                {"name": "before", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                 "description": "Without `q`: from `links.next`."},
                _LIMIT],
        security=OPTIONAL_BEARER, ok={200: json_response("One page of users.", UsersFound)}, errors=(401, 422))
