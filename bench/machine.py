"""The machine a run was made on, from /proc and the broker itself."""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pika

from bench.infra import RABBIT_HOST, RABBIT_PORT


def _proc(path: str, pattern: str) -> str | None:
    try:
        match = re.search(pattern, Path(path).read_text(), re.MULTILINE)
    except OSError:
        return None
    return match[1].strip() if match else None


def rabbitmq_version() -> str:
    """What the broker says it is, in its connection handshake."""
    try:
        credentials = pika.PlainCredentials("guest", "guest")
        conn = pika.BlockingConnection(pika.ConnectionParameters(RABBIT_HOST, RABBIT_PORT, credentials=credentials))
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"
    try:
        version = conn._impl.server_properties.get("version", b"?")  # type: ignore[attr-defined]
        return version.decode() if isinstance(version, bytes) else str(version)
    finally:
        conn.close()


def describe() -> dict[str, str | int | float | None]:
    mem_kib = _proc("/proc/meminfo", r"^MemTotal:\s+(\d+) kB")
    return {
        "cpu": _proc("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kib) / 1024**2, 1) if mem_kib else None,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "rabbitmq": rabbitmq_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def one_line(machine: dict[str, str | int | float | None]) -> str:
    return (f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM; Linux {machine['kernel']}; "
            f"Python {machine['python']}; RabbitMQ {machine['rabbitmq']}; {machine['date']}")
