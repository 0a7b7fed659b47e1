"""`social serve`'s request buffering: the app sees whole requests only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from social import serving
from social.serving import BufferedWsgi


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["REQUEST_METHOD"].encode(), b" ", environ["PATH_INFO"].encode("latin-1"), b" ", body]


def scope(headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/echo", "query_string": b"", "headers": headers or [],
            "client": ("10.0.0.1", 5000), "server": ("127.0.0.1", 5000), "scheme": "http"}


def run(app: BufferedWsgi, messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]] | None = None,
        delay: float = 0.0) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(delay)
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope(headers), receive, send))
    return sent


def test_the_app_gets_the_whole_body_after_it_has_arrived_in_pieces() -> None:
    sent = run(BufferedWsgi(echo_app, threads=2), [
        {"type": "http.request", "body": b"a=", "more_body": True},
        {"type": "http.request", "body": b"1", "more_body": False}])
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"POST /echo a=1"


def test_a_body_declared_too_large_is_refused_before_it_is_read() -> None:
    sent = run(BufferedWsgi(echo_app, threads=1), [],
               headers=[(b"content-length", str(40 * 1024 * 1024).encode())])
    assert sent[0]["status"] == 413


def test_a_body_that_grows_too_large_is_refused_and_never_reaches_the_app() -> None:
    reached = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(True)
        return echo_app(environ, start_response)

    chunk = {"type": "http.request", "body": b"x" * 65536, "more_body": True}
    sent = run(BufferedWsgi(app, threads=1), [dict(chunk) for _ in range(4)])
    assert sent[0]["status"] == 413
    assert not reached


def test_a_body_that_comes_too_slowly_is_answered_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving, "BODY_DEADLINE", 0.2)
    sent = run(BufferedWsgi(echo_app, threads=1),
               [{"type": "http.request", "body": b"a", "more_body": True} for _ in range(10)], delay=0.05)
    assert sent[0]["status"] == 408


def test_a_client_that_leaves_mid_body_runs_nothing() -> None:
    reached = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(True)
        return []

    sent = run(BufferedWsgi(app, threads=1), [{"type": "http.request", "body": b"a", "more_body": True},
                                             {"type": "http.disconnect"}])
    assert (sent, reached) == ([], [])


def test_a_page_refuses_a_body_over_its_limit_without_reading_or_echoing_it(tmp_path: Any) -> None:
    from tests.support.social_app import build_app

    client = build_app(f"sqlite:///{tmp_path / 'big.db'}", migrate=False).test_client()
    huge = "n" * (1024 * 1024)
    response = client.post("/auth/register", data={"nickname": huge, "email": "x@example.com"})
    assert response.status_code == 413
    assert huge[:1000] not in response.get_data(as_text=True)
