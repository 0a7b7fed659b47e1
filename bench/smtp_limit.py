"""The SMTP limit a sender can reach: pre-built messages pushed with smtplib, no building cost."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import smtplib
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.infra import BenchError
from bench.sinks import SinkAddress

SENDER = "admin@microblog.test"


def prebuilt_message(n: int, size: int = 1500) -> bytes:
    """A ~`size`-byte mail, built once: headers and a body of plain lines."""
    head = (f"From: {SENDER}\r\nTo: u{n}@example.com\r\nSubject: [microblog] u{n} is now following you!\r\n"
            f"Message-ID: <raw.{n}@microblog.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n")
    line = "Dear user, someone is now a follower: http://127.0.0.1/user/someone\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return (head + body).encode()


@contextmanager
def placed(sink: SinkAddress, sender_cpu: int, sink_cpu: int) -> Iterator[int | None]:
    """Pin the sink's process to `sink_cpu` while the block runs; yields the CPU the sending
    thread should pin itself to (None on a one-CPU machine or a sink without a process)."""
    cpus = sorted(os.sched_getaffinity(0))
    if sink.pid is None or len(cpus) < 2:
        yield None
        return
    before = os.sched_getaffinity(sink.pid)
    os.sched_setaffinity(sink.pid, {cpus[sink_cpu % len(cpus)]})
    try:
        yield cpus[sender_cpu % len(cpus)]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(sink.pid, before)


def one_connection_rates(sink: SinkAddress, messages: int) -> dict[str, float]:
    """The single-connection limit, with the sender and the sink on two different CPUs (as two
    hosts would be: every SMTP round trip wakes the other side on another CPU) and on the same
    one (no cross-CPU wake-ups); unpinned, as the notifier runs (a run lands on either at random:
    on this kind of VM that is a factor of about five), with the sending loop's CPU per mail; and
    Postfix's own smtp-source over one session, the machine's SMTP limit a mail engineer quotes."""
    with placed(sink, 1, 0) as cpu:
        across = smtplib_rate(sink, messages, pin=cpu)
    with placed(sink, 0, 0) as cpu:
        same = smtplib_rate(sink, messages, pin=cpu)
    cpu_before = time.process_time()
    unpinned = smtplib_rate(sink, messages)
    cpu_ms = (time.process_time() - cpu_before) * 1000 / messages
    return {"two_cpus": across, "one_cpu": same, "unpinned": unpinned, "unpinned_cpu_ms_per_mail": cpu_ms,
            "smtp_source": smtp_source_rate(sink, messages)}


def smtp_source_rate(sink: SinkAddress, messages: int, message_size: int = 1500) -> float:
    """Mails per second from Postfix's smtp-source (C, the package of smtp-sink) over one session;
    NaN on a machine without Postfix, which drains into the aiosmtpd sink instead."""
    binary = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    if not Path(binary).exists():
        if sink.kind != "smtp-sink":
            return math.nan
        raise BenchError("smtp-source is not installed: run bench/ensure-tools (Debian package postfix)")
    argv = [binary, "-d", "-s", "1", "-m", str(messages), "-l", str(message_size), "-f", SENDER,
            "-t", "u0@example.com", f"{sink.host}:{sink.port}"]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60 + messages / 100, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"smtp-source failed ({done.returncode}): {(done.stderr or done.stdout)[-500:]}")
    return messages / elapsed


def smtplib_rate(sink: SinkAddress, messages: int, connections: int = 1, pin: int | None = None,
                 message_size: int = 1500) -> float:
    """Mails per second over `connections` reused smtplib sessions (one thread each, pinned to
    CPU `pin` if given), each message about `message_size` bytes."""
    message = prebuilt_message(0, message_size)
    per_connection = [messages // connections + (1 if i < messages % connections else 0) for i in range(connections)]
    ready = threading.Barrier(connections + 1)
    errors: list[BaseException] = []

    def push(count: int) -> None:
        if pin is not None:
            os.sched_setaffinity(0, {pin})  # 0: this thread
        try:
            with smtplib.SMTP(sink.host, sink.port, timeout=60) as smtp:
                smtp.ehlo()
                ready.wait()
                for i in range(count):
                    smtp.sendmail(SENDER, [f"u{i}@example.com"], message)
        except BaseException as exc:  # reported below, with the rate left out
            errors.append(exc)
            ready.abort()

    threads = [threading.Thread(target=push, args=(c,), daemon=True) for c in per_connection]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()  # broken when a session could not open: the error is raised below
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"raw smtplib push failed: {errors[0]!r}")
    return messages / elapsed
