"""Every API error is JSON: `{"error": "<short code>", "message": "<human text>"}`."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response as WerkzeugResponse

API_PREFIX = "/api"


class ApiError(Exception):
    """An error the API answers with `status` and a JSON body, raised anywhere in a view."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def is_api_request() -> bool:
    """Whether the current request is for the API, matched by path so that unknown `/api`
    URLs and wrong methods, which reach no blueprint, still answer in JSON."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> bytes:
    body: dict[str, object] = {"error": code, "message": message}
    if fields:
        body["fields"] = dict(fields)
    return json.dumps(body).encode()


def api_error_response(error: ApiError) -> Response:
    response = Response(
        error_body(error.code, error.message, error.fields),
        status=error.status,
        mimetype="application/json",
    )
    response.headers.update(error.headers)
    return response


def http_exception_response(exc: HTTPException) -> WerkzeugResponse:
    """`exc` as JSON, keeping its headers (`Allow` on a 405, `Retry-After` on a 429...)."""
    if exc.code is None or exc.code >= 500:
        exc = InternalServerError()
    code = (exc.name or "error").lower().replace(" ", "_")
    response = exc.get_response()
    response.set_data(error_body(code, exc.description or exc.name))
    response.mimetype = "application/json"
    return response
