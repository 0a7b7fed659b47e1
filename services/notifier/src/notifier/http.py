"""The notifier's HTTP endpoint for operators: /healthz (alive), /readyz (broker connected and
ledger answering) and /metrics (Prometheus text format)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Readiness = Callable[[], dict[str, bool]]


def serve_probes(bind: str, registry: CollectorRegistry, readiness: Readiness) -> ThreadingHTTPServer:
    """Serve on `bind` ("host:port"; port 0 picks a free one) from a daemon thread."""
    host, _, port = bind.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/readyz":
                checks = readiness()
                ready = all(checks.values())
                self._json(200 if ready else 503, {"status": "ok" if ready else "unavailable", "checks": checks})
            elif path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            else:
                self._json(404, {"error": "not_found", "message": "try /healthz, /readyz or /metrics"})

        def _json(self, status: int, document: dict[str, object]) -> None:
            self._reply(status, json.dumps(document).encode() + b"\n", "application/json")

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
