"""`GET /api/openapi.json`: the API described in OpenAPI 3.1, from the pydantic models it uses."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from social.api import bp
from social.api.parsing import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from social.api.schemas import ErrorOut, FollowersPage, TokenOut, UserCreate, UserOut
from social.settings import current_settings

_MODELS: list[type[BaseModel]] = [UserCreate, UserOut, FollowersPage, TokenOut, ErrorOut]
_REF = "#/components/schemas/{model}"

_ERRORS = {
    400: "The body is not JSON (wrong Content-Type or malformed).",
    401: "Missing, wrong, revoked or expired credentials.",
    404: "No user has that nickname.",
    409: "The nickname or e-mail address is taken.",
    413: "The body is larger than 64 KiB.",
    422: "A field or query parameter is invalid; `fields` says which and why.",
    429: "Too many attempts; wait and retry.",
}

_NICKNAME_PARAM = {
    "name": "nickname",
    "in": "path",
    "required": True,
    "description": "A user's nickname, in any case.",
    "schema": {"type": "string", "minLength": 1},
}
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
_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return openapi_document(current_settings().base_url)


def openapi_document(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, with `base_url` as the server."""
    _, defs = models_json_schema([(model, "validation") for model in _MODELS], ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Microblog social API",
            "version": "1.0.0",
            "description": "Sign up, get a bearer token, follow people. Every error is "
            '`{"error": code, "message": text}`.',
        },
        "servers": [{"url": base_url}],
        "paths": _paths(),
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
            "post": _op(
                "createUser",
                "Sign up",
                request=UserCreate,
                security=[],
                ok={
                    201: _json(
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
            "get": _op(
                "getUser",
                "A user's public profile",
                description="The e-mail address is included only when the token's owner asks "
                "about themselves.",
                params=[_NICKNAME_PARAM],
                security=_OPTIONAL_BEARER,
                ok={200: _json("The profile.", UserOut)},
                errors=(401, 404),
            )
        },
        "/api/users/{nickname}/followers": {
            "get": _op(
                "getFollowers",
                "A user's followers, newest follow first",
                params=[_NICKNAME_PARAM, *_PAGE_PARAMS],
                security=_OPTIONAL_BEARER,
                ok={200: _json("One page of followers.", FollowersPage)},
                errors=(401, 404, 422),
            )
        },
        "/api/users/me/following/{nickname}": {
            "put": _op(
                "follow",
                "Follow a user",
                description="Idempotent: 204 whether the follow is new or not. Following "
                "yourself is a 422 (`cannot_follow_self`).",
                params=[_NICKNAME_PARAM],
                security=_BEARER,
                ok={204: {"description": "You follow that user."}},
                errors=(401, 404, 422),
            ),
            "delete": _op(
                "unfollow",
                "Stop following a user",
                description="Idempotent: 204 whether you followed that user or not.",
                params=[_NICKNAME_PARAM],
                security=_BEARER,
                ok={204: {"description": "You do not follow that user."}},
                errors=(401, 404),
            ),
        },
        "/api/tokens": {
            "post": _op(
                "createToken",
                "Trade your nickname and password for a bearer token",
                security=[{"basicAuth": []}],
                ok={200: _json("A token, valid for 24 hours; shown only this once.", TokenOut)},
                errors=(401, 429),
            ),
            "delete": _op(
                "revokeToken",
                "Revoke the bearer token this request carries",
                security=_BEARER,
                ok={204: {"description": "The token no longer works."}},
                errors=(401,),
            ),
        },
        "/api/openapi.json": {
            "get": _op(
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


def _op(
    operation_id: str,
    summary: str,
    *,
    ok: dict[int, Any],
    errors: tuple[int, ...],
    security: list[dict[str, list[str]]],
    params: list[dict[str, Any]] | None = None,
    request: type[BaseModel] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if description:
        operation["description"] = description
    if params:
        operation["parameters"] = params
    if request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=request.__name__)}}
            },
        }
    responses: dict[str, Any] = {str(code): body for code, body in ok.items()}
    for code in errors:
        responses[str(code)] = _json(_ERRORS[code], ErrorOut)
    operation["responses"] = responses
    operation["security"] = security
    return operation


def _json(
    description: str, model: type[BaseModel], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}},
    }
    if headers:
        response["headers"] = headers
    return response
