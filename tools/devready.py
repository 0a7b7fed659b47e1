"""When `make run` is ready: the mail sink listens, and the web, the relay and the notifier each
answer their /readyz (the web's asks its database; the others' their broker and database)."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

#: After this long without every process ready, say which is not and why (once).
SLOW_AFTER = 30.0


def local_url(bind: str) -> str:
    """The URL this machine reaches a server on `bind` ("host:port") at; a server listening on
    every address is reached on 127.0.0.1."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def wait_listening(host: str, port: int, *, alive: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Wait until something accepts connections on host:port; False if `alive` says the server
    has gone, or after `timeout` s."""
    deadline = time.monotonic() + timeout
    while alive() and time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)  # poll again: the server is still starting
    return False


def readyz(base_url: str) -> str | None:
    """None if `base_url`/readyz answers 200; else why not, in a few words."""
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=2):  # noqa: S310 (our own http URL)
            return None
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        reasons = body.get("errors") or body.get("reason") or f"HTTP {exc.code}"
        return "; ".join(reasons.values()) if isinstance(reasons, dict) else str(reasons)
    except OSError as exc:
        return f"not answering yet ({getattr(exc, 'reason', exc)})"


class Readiness:
    """Asks each process's /readyz from a thread until all answer; :meth:`news` hands the main
    loop what to say: None once everything is ready, or a line naming what is still not."""

    def __init__(self, urls: dict[str, str], *, interval: float = 0.2, slow_after: float = SLOW_AFTER) -> None:
        self.urls = urls
        self.interval = interval
        self.slow_after = slow_after
        self.seconds = 0.0
        self._news: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="readiness", daemon=True)

    def start(self) -> Readiness:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def news(self) -> list[str | None]:
        items = []
        while not self._news.empty():
            items.append(self._news.get_nowait())
        return items

    def _watch(self) -> None:
        started = time.monotonic()
        told_slow = False
        waiting = dict(self.urls)
        while not self._stop.wait(self.interval):
            reasons = {name: reason for name, url in waiting.items() if (reason := readyz(url)) is not None}
            waiting = {name: self.urls[name] for name in reasons}
            elapsed = time.monotonic() - started
            if not waiting:
                self.seconds = elapsed
                self._news.put(None)
                return
            if not told_slow and elapsed > self.slow_after:
                told_slow = True
                self._news.put(f"make run: not ready after {elapsed:.0f} s: " + "; ".join(
                    f"the {name} at {self.urls[name]}/readyz: {reason}" for name, reason in reasons.items()))
