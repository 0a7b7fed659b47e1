"""Tokens in link paths never reach a log line, a Referer header or a cache."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.config import Config
from social.secrecy import access_logger_class, redact

TOKEN = "s3cr3t-t0k3n_value"


@pytest.mark.parametrize("path", [
    f"/confirm/{TOKEN}", f"/reset_password/{TOKEN}", f"/unsubscribe/7.follow_notices.{TOKEN}",
    f"/api/password-resets/{TOKEN}",
])
def test_a_token_in_a_link_path_is_redacted(path: str) -> None:
    line = redact(f'127.0.0.1 "POST {path}?x=1 HTTP/1.1" 200')
    assert TOKEN not in line
    assert "[redacted]?x=1 HTTP/1.1" in line


def test_paths_without_a_token_are_left_alone() -> None:
    assert redact('"GET /user/confirm HTTP/1.1"') == '"GET /user/confirm HTTP/1.1"'
    assert redact("/api/password-resets") == "/api/password-resets"


def test_gunicorns_access_log_never_shows_a_token(caplog: pytest.LogCaptureFixture) -> None:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s %({referer}i)s')
    logger = access_logger_class()(config)
    logger.access_log.addHandler(caplog.handler)
    request = SimpleNamespace(headers=[("REFERER", f"http://social.test/reset_password/{TOKEN}")],
                              method="GET", path=f"/confirm/{TOKEN}", query="", uri=f"/confirm/{TOKEN}",
                              version=(1, 1))
    response = SimpleNamespace(status="200 OK", headers=[], sent=10, response_length=10)
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "RAW_URI": f"/confirm/{TOKEN}",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": f"/confirm/{TOKEN}", "QUERY_STRING": ""}
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logger.access(response, request, environ, timedelta(milliseconds=3))
    [line] = [record.getMessage() for record in caplog.records]
    assert TOKEN not in line
    assert line.count("[redacted]") == 3


def test_flasks_error_lines_do_not_show_a_token(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        app.logger.error(f"Exception on /reset_password/{TOKEN} [POST]")
    assert TOKEN not in caplog.text
    assert "/reset_password/[redacted]" in caplog.text


def test_token_pages_send_no_referer_and_are_not_cached(client: FlaskClient) -> None:
    response = client.get(f"/confirm/{TOKEN}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"
