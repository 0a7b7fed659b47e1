"""Error pages for people and JSON errors for the API, chosen by the request's path.

Unhandled exceptions are left to Flask, which logs them and then asks the handler below for
its 500 response (in tests they propagate instead, so a bug fails loudly).
"""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from social.api.errors import ApiError, api_error_response, http_exception_response, is_api_request


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)


def _api_error(error: ApiError) -> ResponseReturnValue:
    return api_error_response(error)


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    if is_api_request():
        return http_exception_response(exc)
    if exc.code is None:  # a routing redirect, not an error
        return exc
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    page = render_template(
        "errors/error.html", title=exc.name, code=exc.code, name=exc.name, message=exc.description
    )
    return page, exc.code, headers
