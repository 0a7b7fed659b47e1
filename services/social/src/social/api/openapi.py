"""`GET /api/openapi.json`: the API described in OpenAPI 3.1, from the pydantic models it uses."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from social.api import bp
from social.api.openapi_account import ACCOUNT_MODELS, account_paths
from social.api.openapi_parts import BEARER, NICKNAME_PARAM, OPTIONAL_BEARER, REF, json_response, operation
from social.api.parsing import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from social.api.schemas import ErrorOut, FollowersPage, TokenOut, UserCreate, UserOut
from social.settings import current_settings

_MODELS: list[type[BaseModel]] = [UserCreate, UserOut, FollowersPage, TokenOut, ErrorOut, *ACCOUNT_MODELS]
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
            "description": "Sign up, get a bearer token, follow people, confirm your address and "
            'choose what you are mailed about. Every error is `{"error": code, "message": text}`.',
        },
        "servers": [{"url": base_url}],
        "paths": {**_paths(), **account_paths()},
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
                request=UserCreate,
                security=[],
                ok={
                    201: json_response(
                        "The new user, e-mail included.",
                        UserOut,
                        headers={
                            "Location": {
                                "description": "The new user's API URL.",
                                "schema": {"type": "string"},
                            }
                        },
                    )
                },
                errors=(400, 409, 413, 422),
            )
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
        "/api/users/me/following/{nickname}": {
            "put": operation(
                "follow",
                "Follow a user",
                description="Idempotent: 204 whether the follow is new or not. Following "
                "yourself is a 422 (`cannot_follow_self`).",
                params=[NICKNAME_PARAM],
                security=BEARER,
                ok={204: {"description": "You follow that user."}},
                errors=(401, 404, 422),
            ),
            "delete": operation(
                "unfollow",
                "Stop following a user",
                description="Idempotent: 204 whether you followed that user or not.",
                params=[NICKNAME_PARAM],
                security=BEARER,
                ok={204: {"description": "You do not follow that user."}},
                errors=(401, 404),
            ),
        },
        "/api/tokens": {
            "post": operation(
                "createToken",
                "Trade your nickname and password for a bearer token",
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
