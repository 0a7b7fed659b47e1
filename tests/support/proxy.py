"""A TCP proxy between our processes and RabbitMQ that a test can cut, like a broker restart
or a network failure, without touching the broker other tests share."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`. `cut()` drops every connection; `refuse()` also
    turns new ones away until `accept()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._refusing = False
        self._stopped = threading.Event()
        self.cuts = 0
        self._cut_requests: list[threading.Event] = []
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def url(self, amqp_url: str) -> str:
        """`amqp_url` rewritten to go through this proxy."""
        scheme, rest = amqp_url.split("://", 1)
        credentials, _, location = rest.rpartition("@")
        path = location.split("/", 1)[1] if "/" in location else ""
        return f"{scheme}://{credentials}@127.0.0.1:{self.port}/{path}"

    def cut(self) -> None:
        """Close every open connection at once, both sides (done by the proxy's thread)."""
        done = threading.Event()
        with self._lock:
            self._cut_requests.append(done)
        if self._thread.is_alive():
            done.wait(5)

    def refuse(self) -> None:
        self._refusing = True
        self.cut()

    def accept(self) -> None:
        self._refusing = False

    def stop(self) -> None:
        self.cut()
        self._stopped.set()
        self._thread.join(5)
        self._listener.close()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        self._listener.setblocking(False)
        selector.register(self._listener, selectors.EVENT_READ, None)
        peers: dict[socket.socket, socket.socket] = {}
        while not self._stopped.is_set():
            try:
                events = selector.select(timeout=0.05)
            except (OSError, ValueError):
                break
            for key, _ in events:
                sock = key.fileobj
                if sock is self._listener:
                    try:
                        client, _ = self._listener.accept()
                    except OSError:
                        continue
                    if self._refusing:
                        client.close()
                        continue
                    try:
                        upstream = socket.create_connection(self.target, timeout=5)
                    except OSError:
                        client.close()
                        continue
                    for s in (client, upstream):
                        s.setblocking(False)
                    peers[client], peers[upstream] = upstream, client
                    with self._lock:
                        self._pairs.append((client, upstream))
                    selector.register(client, selectors.EVENT_READ, None)
                    selector.register(upstream, selectors.EVENT_READ, None)
                    continue
                assert isinstance(sock, socket.socket)
                other = peers.get(sock)
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data and other is not None:
                    try:
                        other.setblocking(True)
                        other.sendall(data)
                        other.setblocking(False)
                        continue
                    except OSError:
                        pass
                with self._lock:
                    self._pairs = [p for p in self._pairs if sock not in p]
                for s in (sock, other):
                    if s is None:
                        continue
                    peers.pop(s, None)
                    with contextlib.suppress(KeyError, ValueError):
                        selector.unregister(s)
                    s.close()
            with self._lock:
                requests, self._cut_requests = self._cut_requests, []
                if requests:
                    self._pairs = []
                    self.cuts += 1
            if requests:
                for s in list(peers):
                    with contextlib.suppress(KeyError, ValueError):
                        selector.unregister(s)
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                    s.close()
                peers.clear()
                for done in requests:
                    done.set()
        for s in peers:
            s.close()
