"""`GET /api/openapi.json`: the API described in OpenAPI 3.1, from the pydantic models it uses."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from social.api import bp
from social.api.openapi_account import ACCOUNT_MODELS, account_paths
from social.api.openapi_parts import (
    BEARER,
    ERRORS,
    NICKNAME_PARAM,
    OPTIONAL_BEARER,
    REF,
    json_response,
    operation,
)
from social.api.openapi_posts import POST_MODELS, people_get, post_paths
from social.api.parsing import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from social.api.schemas import ErrorOut, FollowersPage, SignUpAccepted, TokenOut, UserCreate, UserOut
from social.settings import current_settings

_MODELS: list[type[BaseModel]] = [
    UserCreate, SignUpAccepted, UserOut, FollowersPage, TokenOut, ErrorOut, *ACCOUNT_MODELS,
    *POST_MODELS,
]
_PAGE_PARAMS = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PER_PAGE,
            "default": DEFAULT_PER_PAGE,
        },
    },
]


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return openapi_document(current_settings().base_url)


def openapi_document(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, with `base_url` as the server."""
    _, defs = models_json_schema([(model, "validation") for model in _MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Microblog social API",
            "version": "1.0.0",
            "description": "Sign up, get a bearer token, find and follow people, post and read timelines, "
            "confirm your address and choose what you are mailed about. "
            'Every error is `{"error": code, "message": text}`.',
        },
        "servers": [{"url": base_url}],
        "paths": {**_paths(), **account_paths(), **post_paths()},
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Your nickname and password.",
                },
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `POST /api/tokens`.",
                },
            },
        },
    }


def _paths() -> dict[str, Any]:
    return {
        "/api/users": {
            "post": operation(
                "createUser",
                "Sign up",
                description="The answer is the same whether or not the address has an account: "
                "its owner gets a mail saying someone tried, with a password reset link. A nickname "
                "taken, or looking like a taken or reserved one, is a 409. The password may not be "
                "one of the 20,000 most common, nor the nickname or address (422 naming `password`). "
                "Rate limited per client (`SIGNUP_RATE_LIMIT`).",
                request=UserCreate,
                security=[],
                ok={202: json_response("Signed up: a link to confirm the address is on its way.", SignUpAccepted)},
                errors={**{code: ERRORS[code] for code in (400, 413, 422, 429)},
                        409: "The nickname is taken, or looks like one that is (`nickname_taken`)."},
            ),
            "get": people_get(),
        },
        "/api/users/{nickname}": {
            "get": operation(
                "getUser",
                "A user's public profile",
                description="The e-mail address is included only when the token's owner asks "
                "about themselves.",
                params=[NICKNAME_PARAM],
                security=OPTIONAL_BEARER,
                ok={200: json_response("The profile.", UserOut)},
                errors=(401, 404),
            )
        },
        "/api/users/{nickname}/followers": {
            "get": operation(
                "getFollowers",
                "A user's followers, newest follow first",
                params=[NICKNAME_PARAM, *_PAGE_PARAMS],
                security=OPTIONAL_BEARER,
                ok={200: json_response("One page of followers.", FollowersPage)},
                errors=(401, 404, 422),
            )
        },
        "/api/users/{nickname}/following": {
            "get": operation(
                "getFollowing",
                "Whom a user follows, newest follow first",
                params=[NICKNAME_PARAM, *_PAGE_PARAMS],
                security=OPTIONAL_BEARER,
                ok={200: json_response("One page of the users followed.", FollowersPage)},
                errors=(401, 404, 422),
            )
        },
        "/api/users/me/following/{nickname}": {
            "put": operation(
                "follow",
                "Follow a user",
                description="Idempotent: 204 whether the follow is new or not. Following "
                "yourself is a 422 (`cannot_follow_self`). Follows and unfollows are rate limited "
                "per user (`FOLLOW_RATE_LIMIT`).",
                params=[NICKNAME_PARAM],
                security=BEARER,
                ok={204: {"description": "You follow that user."}},
                errors=(401, 404, 422, 429),
            ),
            "delete": operation(
                "unfollow",
                "Stop following a user",
                description="Idempotent: 204 whether you followed that user or not.",
                params=[NICKNAME_PARAM],
                security=BEARER,
                ok={204: {"description": "You do not follow that user."}},
                errors=(401, 404, 429),
            ),
        },
        "/api/tokens": {
            "post": operation(
                "createToken",
                "Trade your nickname and password for a bearer token",
                description="Limited per client and, for wrong passwords, per account; the page login "
                "shares both budgets. An unknown nickname takes as long as a wrong password.",
                security=[{"basicAuth": []}],
                ok={200: json_response("A token, valid for 24 hours; shown only this once.", TokenOut)},
                errors=(401, 429),
            ),
            "delete": operation(
                "revokeToken",
                "Revoke the bearer token this request carries",
                security=BEARER,
                ok={204: {"description": "The token no longer works."}},
                errors=(401,),
            ),
        },
        "/api/openapi.json": {
            "get": operation(
                "openapi",
                "This document",
                security=[],
                ok={
                    200: {
                        "description": "OpenAPI 3.1.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
                errors=(),
            )
        },
    }
