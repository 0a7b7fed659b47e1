"""What every measurement stands on: free ports, waiting with a deadline, a RabbitMQ vhost and a
PostgreSQL database of its own, each removed afterwards even when the measurement fails."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import quote

T = TypeVar("T")

RABBIT_HOST = os.environ.get("BENCH_RABBITMQ_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("BENCH_RABBITMQ_PORT", "5672"))
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class BenchError(Exception):
    """The benchmark cannot go on: a service is missing or a process misbehaved."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Call `probe` until it returns something truthy and return that; BenchError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what} (last: {result!r})")
        time.sleep(interval)


def rabbit_api(method: str, path: str, body: dict[str, str] | None = None) -> None:
    """One call to RabbitMQ's management API (tools/ensure-machine enables it)."""
    request = urllib.request.Request(
        f"http://{RABBIT_HOST}:15672/api{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode(),
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60):  # noqa: S310 - a local broker
            pass
    except OSError as exc:
        raise BenchError(f"RabbitMQ's management API: {method} {path}: {exc} (`rabbitmq-plugins enable "
                         "rabbitmq_management`, which tools/ensure-machine does)") from None


def require_rabbitmq() -> None:
    if not port_open(RABBIT_HOST, RABBIT_PORT):
        raise BenchError(f"RabbitMQ is not answering on {RABBIT_HOST}:{RABBIT_PORT}; "
                         "start it with `rabbitmq-server -detached`")


@contextmanager
def rabbit_vhost(label: str) -> Iterator[str]:
    """A fresh vhost; yields its AMQP URL and deletes it afterwards, whatever happened."""
    require_rabbitmq()
    name = quote(f"bench-{label}-{uuid.uuid4().hex[:8]}", safe="")
    rabbit_api("PUT", f"/vhosts/{name}")
    try:
        rabbit_api("PUT", f"/permissions/{name}/guest", {"configure": ".*", "write": ".*", "read": ".*"})
        yield f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{name}"
    finally:
        rabbit_api("DELETE", f"/vhosts/{name}")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not answering at {PG_ADMIN_URL} ({exc}); start it with "
                         "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
                         "or leave it out with --no-postgres") from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
