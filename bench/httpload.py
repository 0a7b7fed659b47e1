"""HTTP clients for the latency measurements: keep-alive connections (http.client), one per
client thread. Closed loop: N clients each send their next request when the last one answered.
Open loop: requests leave on a fixed schedule, whatever the server does."""

from __future__ import annotations

import http.client
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    tag: object = None  # the caller's: which follow this was


@dataclass
class Outcome:
    """One request's result: latency in seconds, HTTP status (0 for no answer), when it ended."""

    request: Request
    seconds: float
    status: int
    finished_at: float  # time.time() once the response was read
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def latencies_ms(self) -> list[float]:
        return [o.seconds * 1000 for o in self.outcomes if o.ok]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


class KeepAliveClient:
    """One HTTP/1.1 connection, reopened once if the server closed it while idle."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def send(self, request: Request) -> Outcome:
        started = time.perf_counter()
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._conn or http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._conn = conn
            try:
                conn.request(request.method, request.path, headers={"Content-Length": "0", **request.headers})
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return Outcome(request, time.perf_counter() - started, response.status, time.time())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 2 or not reused:
                    return Outcome(request, time.perf_counter() - started, 0, time.time(), repr(exc))
                # A kept-alive connection the server had closed: one retry on a new one, as
                # urllib3 does; the time counts.
            except OSError as exc:
                self.close()
                return Outcome(request, time.perf_counter() - started, 0, time.time(), repr(exc))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def closed_loop(base_url: str, requests: Iterator[Request], *, clients: int, max_requests: int,
                max_seconds: float) -> LoadResult:
    """`clients` threads send requests back to back until `max_requests` were sent or
    `max_seconds` passed; every client's connection is opened (by one request) before timing."""
    lock = threading.Lock()
    sent = 0
    result = LoadResult()
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def next_request() -> Request | None:
        nonlocal sent
        with lock:
            if sent >= max_requests or time.monotonic() > deadline:
                return None
            sent += 1
            return next(requests, None)

    def client(first: Request | None) -> None:
        http_client = KeepAliveClient(base_url)
        if first is not None:
            http_client.send(first)  # opens the connection; not measured
        start.wait()
        outcomes = []
        while (request := next_request()) is not None:
            outcomes.append(http_client.send(request))
        http_client.close()
        with lock:
            result.outcomes.extend(outcomes)

    threads = [threading.Thread(target=client, args=(next(requests, None),), daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 3600
    start.wait()
    began = time.monotonic()
    deadline = began + max_seconds
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - began
    return result


def open_loop(base_url: str, requests: Iterator[Request], *, rate: float, seconds: float,
              clients: int = 16, on_outcome: Callable[[Outcome], None] | None = None) -> LoadResult:
    """Send `rate` requests a second for `seconds`, each at its scheduled time, from a pool of
    `clients` keep-alive connections; a late server delays answers, not departures (up to the pool)."""
    jobs: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
    result = LoadResult()
    lock = threading.Lock()

    def client() -> None:
        http_client = KeepAliveClient(base_url)
        while (request := jobs.get()) is not None:
            outcome = http_client.send(request)
            with lock:
                result.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        http_client.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    began = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        due = began + i / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        request = next(requests, None)
        if request is None:
            break
        jobs.put(request)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - began
    return result
