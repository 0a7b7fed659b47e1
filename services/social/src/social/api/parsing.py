"""Reading request bodies and query strings, turning every flaw into a 400 or 422."""

from __future__ import annotations

import re
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from social.api.errors import ApiError

#: Larger than any valid body by far; bigger ones are refused (413) before they are read.
MAX_BODY_BYTES = 64 * 1024
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
#: Far past any real follower list; keeps the SQL OFFSET inside a bigint.
MAX_PAGE = 100_000

ModelT = TypeVar("ModelT", bound=BaseModel)
_positive_int = re.compile(r"[1-9][0-9]{0,8}")


def json_body(model: type[ModelT]) -> ModelT:
    """The request's JSON body as `model`: 400 when it is not JSON, 422 when a field is wrong."""
    if not request.is_json:
        raise ApiError(400, "not_json", "Send a JSON body with `Content-Type: application/json`.")
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
        raise invalid_fields(exc) from None


def invalid_fields(exc: ValidationError) -> ApiError:
    """A 422 naming each invalid field, without echoing the (possibly huge) input."""
    fields: dict[str, str] = {}
    for err in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in err["loc"]) or "body"
        fields.setdefault(name, _without_prefix(err["msg"]))
    return ApiError(422, "invalid_fields", "Some fields are invalid.", fields=fields)


def page_args() -> tuple[int, int]:
    """`page` and `per_page` from the query string, or a 422 naming the bad one."""
    page = _query_int("page", 1, MAX_PAGE)
    per_page = _query_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    return page, per_page


def limit_arg() -> int:
    """`limit` from the query string (how many items a page holds), or a 422."""
    return _query_int("limit", DEFAULT_PER_PAGE, MAX_PER_PAGE)


def _query_int(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _positive_int.fullmatch(raw) or int(raw) > maximum:
        raise ApiError(
            422,
            "invalid_query",
            f"`{name}` must be a whole number from 1 to {maximum}.",
            fields={name: f"a whole number from 1 to {maximum}"},
        )
    return int(raw)


def _without_prefix(message: str) -> str:
    # Pydantic prefixes messages from our own validators with "Value error, ".
    return message.removeprefix("Value error, ")
