"""Links that carry a secret in their path, and keeping those secrets out of logs and Referer headers.

Confirmation, password reset and unsubscribe tokens travel in URL paths (`/confirm/<token>`), so
every place that would write a path down goes through :func:`redact`: gunicorn's access log
(:class:`RedactingAccessLogger`), Flask's own error lines (:class:`RedactingFilter`). Pages on
those paths send `Referrer-Policy: no-referrer` and `Cache-Control: no-store`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, request

#: Path prefixes followed by a token, as routed by the account pages and the API.
SECRET_PATH_PREFIXES = ("/confirm/", "/reset_password/", "/unsubscribe/", "/api/password-resets/")
_SECRET_PATH = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in SECRET_PATH_PREFIXES) + r")[^/?#\s\"]+"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the token of every secret-bearing path replaced by `[redacted]`."""
    return _SECRET_PATH.sub(r"\1" + REDACTED, text)


def has_secret_path(path: str) -> bool:
    return _SECRET_PATH.search(path) is not None


class RedactingFilter(logging.Filter):
    """Redacts tokens in a log record's message (Flask logs `Exception on <path>` on a 500)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)  # type: ignore[union-attr]
        return True


def protect_secret_pages(app: Flask) -> None:
    """Keep the token of a secret-bearing page out of Referer headers and caches; redact
    Flask's own log lines."""
    app.logger.addFilter(RedactingFilter())

    @app.after_request
    def _no_referrer(response: Response) -> Response:
        if has_secret_path(request.path):
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
        return response


def access_logger_class() -> type[Any]:
    """gunicorn's logger, with tokens redacted from every access log atom (request line, path,
    referer); imported only by `social serve`."""
    from gunicorn.glogging import Logger

    class RedactingAccessLogger(Logger):  # type: ignore[misc]
        def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
            atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
            return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}

    return RedactingAccessLogger
