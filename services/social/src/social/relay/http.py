"""A small HTTP endpoint beside the relay: /healthz, /readyz and /metrics (Prometheus)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def serve_probes(bind: str, registry: CollectorRegistry, ready: Callable[[], tuple[bool, str]]) -> ThreadingHTTPServer:
    """Start serving on `bind` ("host:port") in a daemon thread; returns the server to shut down."""
    host, _, port = bind.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._reply(200, b'{"status": "ok"}\n', "application/json")
            elif self.path == "/readyz":
                ok, why = ready()
                body = json.dumps({"status": "ok" if ok else "unavailable", "detail": why}).encode() + b"\n"
                self._reply(200 if ok else 503, body, "application/json")
            elif self.path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b'{"error": "not_found"}\n', "application/json")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="probes-http", daemon=True).start()
    return server
