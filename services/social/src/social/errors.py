"""Error pages for people and JSON errors for the API, chosen by the request's path.

Every error page is the site's own page, in the reader's language. A form whose token did not
hold (left open longer than the token lives, or opened before the browser lost its session) is
not a bare 400: its view runs again, which finds the token wrong, sends nothing and shows the form
with the reader's input and a fresh token, under a line asking to try again.

Unhandled exceptions are left to Flask, which logs them and then asks the handler below for
its 500 response (in tests they propagate instead, so a bug fails loudly).
"""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from social.api.errors import ApiError, api_error_response, http_exception_response, is_api_request
from social.translate import _l

#: Each status's name and what it means to a reader, in words of our own.
PAGES = {
    400: (_l("Bad request"), _l("The browser sent something we could not read. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You may not see this page.")),
    404: (_l("Page not found"), _l("There is nothing here. The address may be mistyped, or what it showed is gone.")),
    405: (_l("Not here"), _l("This address does not answer that kind of request. Please go back and use the page's "
                             "buttons.")),
    408: (_l("Too slow"), _l("The request took too long to arrive. Please try again.")),
    410: (_l("Gone"), _l("What this address showed is gone for good.")),
    413: (_l("Too large"), _l("That was more than we take in one request.")),
    429: (_l("Slow down"), _l("That was a lot of attempts in a short time. Please wait a little and try again.")),
    500: (_l("Something went wrong"), _l("Something broke on our side. It is not your fault; please try again "
                                         "in a moment.")),
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(CSRFError, _form_expired)
    app.register_error_handler(HTTPException, _http_error)


def _api_error(error: ApiError) -> ResponseReturnValue:
    return api_error_response(error)


def _form_expired(exc: CSRFError) -> ResponseReturnValue:
    """Every page form validates its own token (Flask-WTF's FlaskForm) before it changes anything,
    so running the view again is safe: it refuses the post and shows the form once more."""
    view = current_app.view_functions.get(request.endpoint or "")
    if is_api_request() or view is None or request.method != "POST":
        return _http_error(exc)
    g.form_expired = True
    return current_app.ensure_sync(view)(**(request.view_args or {}))  # type: ignore[no-any-return]


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    if is_api_request():
        return http_exception_response(exc)
    if exc.code is None:  # a routing redirect, not an error
        return exc
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    name, words = PAGES.get(exc.code, (exc.name, exc.description))
    # A description given where the error was raised (`abort(404, description=...)`) says more.
    message = exc.description if exc.description != type(exc).description else words
    page = render_template("errors/error.html", title=name, code=exc.code, name=name, message=message)
    return page, exc.code, headers
