"""`social serve`, as `make run` and compose start it, stays up while anonymous clients trickle
request bodies at it: every thread of the old threaded workers was held by 20 such sockets and
`/healthz` went unanswered for over a minute."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.notifier import http_status
from tests.support.processes import Process
from tests.support.services import free_port
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 20
#: One byte of body every this many seconds, as in the issue.
TRICKLE_EVERY = 5.0
#: Long enough for every slow client to have trickled more than once.
WATCH_FOR = 12.0


@contextmanager
def web_server(tmp_path: Path, workers: int) -> Iterator[str]:
    """`social serve` alone (no broker needed) on a fresh SQLite database; yields its base URL."""
    port = free_port()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'social.db'}", "SECRET_KEY": "e2e-secret", "LOG_FORMAT": "json",
           "SOCIAL_BIND": f"127.0.0.1:{port}", "SOCIAL_BASE_URL": f"http://127.0.0.1:{port}",
           "SOCIAL_WORKERS": str(workers)}
    upgraded = run_cli(["social", "db", "upgrade"], env)
    assert upgraded.code == 0, upgraded.err
    web = Process("web", ["social", "serve"], env, tmp_path).start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_status(f"{base}/healthz") == 200, timeout=30, what="social serve")
        yield base
    finally:
        assert web.stop() in (0, None), web.output()[-2000:]


def trickle(port: int, until: float, opened: threading.Barrier) -> None:
    """Send a form's headers, then its body one byte every TRICKLE_EVERY seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /auth/login HTTP/1.1\r\nHost: social\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 10000\r\n\r\n")
        opened.wait()
        while time.monotonic() < until:
            try:
                sock.sendall(b"a")
            except OSError:
                return
            time.sleep(TRICKLE_EVERY)


@pytest.mark.parametrize("workers", [1, 2])
def test_healthz_answers_within_a_second_while_20_clients_trickle_request_bodies(
    tmp_path: Path, workers: int
) -> None:
    with web_server(tmp_path, workers) as base:
        port = int(base.rsplit(":", 1)[1])
        until = time.monotonic() + WATCH_FOR
        opened = threading.Barrier(SLOW_CLIENTS + 1)
        slow = [threading.Thread(target=trickle, args=(port, until, opened), daemon=True) for _ in range(SLOW_CLIENTS)]
        for thread in slow:
            thread.start()
        opened.wait(timeout=10)
        slowest = 0.0
        while time.monotonic() < until:
            started = time.monotonic()
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.2)
        for thread in slow:
            thread.join(timeout=TRICKLE_EVERY + 5)
        assert slowest < 1.0, f"/healthz took {slowest:.2f} s while {SLOW_CLIENTS} clients trickled"
        # The site still does real work: a sign-up goes through the thread pool the slow clients never held.
        signed_up = requests.post(f"{base}/api/users", timeout=10, json={
            "nickname": "after", "email": "after@example.com", "password": "a long enough password"})
        assert signed_up.status_code == 202


def test_a_huge_form_body_is_refused_at_the_door(tmp_path: Path) -> None:
    with web_server(tmp_path, 1) as base:
        response = requests.post(f"{base}/auth/register", timeout=30,
                                 data={"nickname": "n" * (40 * 1024 * 1024), "email": "x@example.com"})
        assert response.status_code == 413
        assert len(response.content) < 1000
