"""The SMTP servers mail goes to: Postfix's smtp-sink (fast, C), the anchors' aiosmtpd sink with a
delay (a remote server), and an in-process sink that timestamps each message (end to end)."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.infra import BenchError, free_port, port_open, wait_for
from bench.procs import Proc, python

ANCHORS = Path(__file__).resolve().parent / "anchors"


@dataclass(frozen=True)
class SinkAddress:
    host: str
    port: int
    kind: str
    pid: int | None = None  # the sink's process, when it has one of its own


def _started(proc: Proc, port: int, what: str) -> Proc:
    proc.start()
    try:
        wait_for(lambda: port_open("127.0.0.1", port) or not proc.running, timeout=15, what=what)
    except BenchError:
        proc.stop()
        raise
    if not proc.running:
        raise BenchError(f"{what} exited at once:\n{proc.tail()}")
    return proc


@contextmanager
def fast_sink(kind: str, log_dir: Path) -> Iterator[SinkAddress]:
    """The fast SMTP limit: smtp-sink, or (only when asked for) the aiosmtpd sink at no delay."""
    port = free_port()
    if kind == "smtp-sink":
        binary = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else None)
        if binary is None:
            raise BenchError("smtp-sink is not installed: run bench/ensure-tools (Debian package postfix), "
                             "or pass --fast-sink aiosmtpd to use the slower aiosmtpd sink instead")
        argv = [binary, "-u", "nobody", "-c", f"127.0.0.1:{port}", "1000"]
        proc = Proc(f"smtp-sink-{port}", argv, log_dir=log_dir)
        proc.log_path = Path("/dev/null")  # -c prints a running count: nobody reads it
    elif kind == "aiosmtpd":
        proc = Proc(f"aiosmtpd-sink-{port}", _slow_sink_argv(port, 0, log_dir), log_dir=log_dir)
    else:
        raise BenchError(f"unknown fast sink {kind!r}")
    _started(proc, port, f"the {kind} SMTP sink on {port}")
    try:
        yield SinkAddress("127.0.0.1", port, kind, proc.pid)
    finally:
        proc.stop()


def _slow_sink_argv(port: int, delay_ms: int, log_dir: Path) -> list[str]:
    return python(str(ANCHORS / "slow_smtp_sink.py"), str(port), "--delay-ms", str(delay_ms),
                  "--countfile", str(log_dir / f"sink{port}.count"))


@contextmanager
def slow_sink(delay_ms: int, log_dir: Path) -> Iterator[SinkAddress]:
    """The anchors' aiosmtpd sink answering each message after `delay_ms`, like a remote server."""
    port = free_port()
    proc = _started(Proc(f"slow-sink-{port}", _slow_sink_argv(port, delay_ms, log_dir), log_dir=log_dir),
                    port, f"the slow SMTP sink on {port}")
    try:
        yield SinkAddress("127.0.0.1", port, f"aiosmtpd, {delay_ms} ms a message", proc.pid)
    finally:
        proc.stop()


_MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>]+)>", re.MULTILINE | re.IGNORECASE)


@dataclass
class Accepted:
    """One message the timestamping sink accepted: when (time.time()) and its Message-ID."""

    at: float
    message_id: str
    recipients: list[str]


@dataclass
class _TimestampingHandler:
    accepted: list[Accepted] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        at = time.time()
        raw = bytes(envelope.original_content or envelope.content or b"")  # type: ignore[arg-type]
        match = _MESSAGE_ID.search(raw)
        with self.lock:
            self.accepted.append(Accepted(at, match[1].decode() if match else "", list(envelope.rcpt_tos)))
        return "250 OK"


class TimestampingSink:
    """An aiosmtpd server in this process that notes when each message was accepted."""

    def __init__(self) -> None:
        self.handler = _TimestampingHandler()
        self.address = SinkAddress("127.0.0.1", free_port(), "aiosmtpd in the bench process, timestamping")
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.address.port)

    def __enter__(self) -> TimestampingSink:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()

    @property
    def accepted(self) -> list[Accepted]:
        with self.handler.lock:
            return list(self.handler.accepted)
