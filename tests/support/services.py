"""Real RabbitMQ, PostgreSQL and SMTP servers for tests, each test in its own namespace.

A missing service fails the test with a message saying how to start it; nothing is skipped.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
import pytest

RABBIT_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))
#: The management plugin's HTTP API, which makes and deletes a vhost in milliseconds.
RABBIT_API = os.environ.get("TEST_RABBITMQ_API", f"http://{RABBIT_HOST}:15672/api")
RABBIT_USER, RABBIT_PASSWORD = "guest", "guest"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_rabbitmq() -> None:
    if not port_open(RABBIT_HOST, RABBIT_PORT):
        pytest.fail(
            f"RabbitMQ is not answering on {RABBIT_HOST}:{RABBIT_PORT}; "
            "start it with `rabbitmq-server -detached`",
            pytrace=False,
        )


def rabbit_api(method: str, path: str, body: dict[str, object] | None = None) -> object:
    """One call to RabbitMQ's management API; fails the test, saying how to enable it, if it is off."""
    credentials = base64.b64encode(f"{RABBIT_USER}:{RABBIT_PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"{RABBIT_API}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"RabbitMQ API {method} {path}: {exc.code} {exc.read()[:300]!r}") from None
    except OSError as exc:
        pytest.fail(
            f"RabbitMQ's management API is not answering at {RABBIT_API} ({exc}); `make test` enables it "
            "(tools/ensure-machine), or run `rabbitmq-plugins enable rabbitmq_management`",
            pytrace=False,
        )
    return json.loads(text) if text else None


@contextmanager
def rabbit_vhost() -> Iterator[str]:
    """A fresh vhost for one test; yields its AMQP URL and deletes it afterwards."""
    require_rabbitmq()
    name = f"test-{uuid.uuid4().hex[:12]}"
    path = quote(name, safe="")
    rabbit_api("PUT", f"/vhosts/{path}")
    try:
        rabbit_api("PUT", f"/permissions/{path}/{RABBIT_USER}", {"configure": ".*", "write": ".*", "read": ".*"})
        yield f"amqp://{RABBIT_USER}:{RABBIT_PASSWORD}@{RABBIT_HOST}:{RABBIT_PORT}/{path}"
    finally:
        rabbit_api("DELETE", f"/vhosts/{path}")


@contextmanager
def rabbit_user(vhost_url: str, *, configure: str = ".*", write: str = ".*", read: str = ".*",
                name: str | None = None) -> Iterator[str]:
    """A user of its own, allowed these permissions in the vhost of `vhost_url` (a test's, from
    :func:`rabbit_vhost`) and nowhere else; yields the same vhost's URL as that user, and deletes
    the user afterwards."""
    name = f"{name or 'test'}-{uuid.uuid4().hex[:12]}"
    password = uuid.uuid4().hex
    vhost = vhost_url.rsplit("/", 1)[1]
    rabbit_api("PUT", f"/users/{quote(name, safe='')}", {"password": password, "tags": ""})
    try:
        rabbit_api("PUT", f"/permissions/{vhost}/{quote(name, safe='')}",
                   {"configure": configure, "write": write, "read": read})
        yield f"amqp://{quote(name, safe='')}:{password}@{RABBIT_HOST}:{RABBIT_PORT}/{vhost}"
    finally:
        rabbit_api("DELETE", f"/users/{quote(name, safe='')}")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; yields its SQLAlchemy URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not answering at {PG_ADMIN_URL} ({exc}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
