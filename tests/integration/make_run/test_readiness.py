"""`make run` says "ready" once every process answers its /readyz, and not before; when one is slow
to, it says which and why."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.services import free_port
from tests.support.wait import wait_for
from tools.devready import Readiness, local_url


class Probe:
    """A /readyz that answers 503 (with a reason, as ours do) until told it is ready."""

    def __init__(self) -> None:
        self.ready = False
        self.asked = 0
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                probe.asked += 1
                status, body = (200, {"status": "ok"}) if probe.ready else (
                    503, {"status": "unavailable", "errors": {"broker": "not connected to RabbitMQ"}})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def probes() -> Iterator[tuple[Probe, Probe]]:
    web, notifier = Probe(), Probe()
    yield web, notifier
    web.close()
    notifier.close()


def test_ready_is_said_only_once_every_process_answers_its_readyz(probes: tuple[Probe, Probe]) -> None:
    web, notifier = probes
    readiness = Readiness({"web": web.url, "notifier": notifier.url}, interval=0.01).start()
    try:
        wait_for(lambda: notifier.asked >= 3, what="a few questions to the notifier")
        web.ready = True
        wait_for(lambda: notifier.asked >= 6, what="a few more questions to the notifier")
        assert readiness.news() == []  # the web answers, the notifier does not yet
        notifier.ready = True
        assert wait_for(readiness.news, what="ready") == [None]
    finally:
        readiness.stop()


def test_a_process_slow_to_be_ready_is_named_with_its_reason_once(probes: tuple[Probe, Probe]) -> None:
    web, notifier = probes
    web.ready = True
    readiness = Readiness({"web": web.url, "notifier": notifier.url}, interval=0.01, slow_after=0.1).start()
    try:
        (news,) = wait_for(readiness.news, what="a word on the slow one")
        assert news.startswith("make run: not ready after ")
        assert news.endswith(f": the notifier at {notifier.url}/readyz: not connected to RabbitMQ")
        notifier.ready = True
        assert wait_for(readiness.news, what="ready") == [None]
    finally:
        readiness.stop()


def test_nothing_answering_yet_is_not_ready() -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    readiness = Readiness({"web": nobody}, interval=0.01, slow_after=0.05).start()
    try:
        (news,) = wait_for(readiness.news, what="a word on the web")
        assert f"the web at {nobody}/readyz: not answering yet" in news
    finally:
        readiness.stop()


@pytest.mark.parametrize(("bind", "url"), [
    ("127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("0.0.0.0:5001", "http://127.0.0.1:5001"),
    (":5002", "http://127.0.0.1:5002"),
    ("localhost:5003", "http://localhost:5003"),
    ("[::1]:5004", "http://[::1]:5004"),
])
def test_a_bind_address_is_reached_at_a_local_url(bind: str, url: str) -> None:
    assert local_url(bind) == url
