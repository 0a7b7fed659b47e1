"""Pieces the OpenAPI document is built of: operations, JSON responses, the error statuses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from social.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"

#: What each error status means, unless an operation says otherwise.
ERRORS = {
    400: "The body is not JSON (wrong Content-Type or malformed).",
    401: "Missing, wrong, revoked or expired credentials.",
    403: "The password is wrong.",
    404: "No user has that nickname.",
    409: "The nickname or e-mail address is taken.",
    410: "The link was used already, has expired, or is about an address or password that changed since.",
    413: "The body is larger than 64 KiB.",
    422: "A field or query parameter is invalid; `fields` says which and why.",
    429: "Too many attempts; wait and retry (see `Retry-After`).",
}

NICKNAME_PARAM = {
    "name": "nickname",
    "in": "path",
    "required": True,
    "description": "A user's nickname, in any case.",
    "schema": {"type": "string", "minLength": 1},
}
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]


def operation(
    operation_id: str,
    summary: str,
    *,
    ok: dict[int, Any],
    errors: tuple[int, ...] | dict[int, str],
    security: list[dict[str, list[str]]],
    params: list[dict[str, Any]] | None = None,
    request: type[BaseModel] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """One operation; `errors` are statuses (described as :data:`ERRORS` says) or statuses with
    descriptions of their own."""
    document: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if description:
        document["description"] = description
    if params:
        document["parameters"] = params
    if request is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=request.__name__)}}},
        }
    described = errors if isinstance(errors, dict) else {code: ERRORS[code] for code in errors}
    responses: dict[str, Any] = {str(code): body for code, body in ok.items()}
    for code, text in described.items():
        responses[str(code)] = json_response(text, ErrorOut)
    document["responses"] = responses
    document["security"] = security
    return document


def json_response(
    description: str, model: type[BaseModel], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
    }
    if headers:
        response["headers"] = headers
    return response
