"""The small HTTP endpoint every background process serves for operators: `/healthz` (the process
answers), `/readyz` (what it depends on answers) and `/metrics` (Prometheus text format)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


@dataclass(frozen=True, slots=True)
class Check:
    """One dependency's state for /readyz; `detail` says why it is not ready."""

    ok: bool
    detail: str | None = None


Readiness = Callable[[], Mapping[str, Check]]


def readiness_document(checks: Mapping[str, Check]) -> tuple[int, dict[str, object]]:
    """The /readyz status code and body: 200 when every check is ok, else 503 naming what is not."""
    ready = all(check.ok for check in checks.values())
    body: dict[str, object] = {"status": "ok" if ready else "unavailable",
                               "checks": {name: check.ok for name, check in checks.items()}}
    problems = {name: check.detail for name, check in checks.items() if not check.ok and check.detail}
    if problems:
        body["errors"] = problems
    return (200 if ready else 503), body


def serve_probes(bind: str, registry: CollectorRegistry, readiness: Readiness) -> ThreadingHTTPServer:
    """Serve on `bind` ("host:port"; port 0 picks a free one) from a daemon thread; returns the
    server (`shutdown()` and `server_close()` it when the process stops)."""
    host, _, port = bind.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/readyz":
                self._json(*readiness_document(readiness()))
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


def stop_probes(server: ThreadingHTTPServer) -> None:
    """Stop serving and free the port."""
    server.shutdown()
    server.server_close()
