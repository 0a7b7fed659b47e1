"""`make run`'s processes: started each in its own session, their output relayed line by line
with the process's name in front, and stopped together."""

from __future__ import annotations

import os
import select
import selectors
import signal
import subprocess
import sys
import time

COLOURS = {"mail": "35", "web": "32", "relay": "36", "notifier": "33"}


class Console:
    """`make run`'s own lines and its processes' lines, on stdout. Colour codes only on a terminal:
    piped into a file or a CI log they would be noise."""

    def __init__(self, *, colour: bool) -> None:
        self.colour = colour

    def say(self, text: str) -> None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()

    def relay(self, name: str, lines: list[bytes]) -> None:
        prefix = f"{name:>8} |"
        if self.colour:
            prefix = f"\x1b[{COLOURS.get(name, '0')}m{prefix}\x1b[0m"
        sys.stdout.write("".join(f"{prefix} {line.decode(errors='replace')}\n" for line in lines))
        sys.stdout.flush()


class Children:
    """The processes `make run` started: each in a session of its own, so that a terminal's Ctrl-C
    reaches `make run` alone, which then stops them in order and shows what they said last."""

    def __init__(self, console: Console, env: dict[str, str]) -> None:
        self.console = console
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.selector = selectors.DefaultSelector()
        self.partial: dict[str, bytes] = {}
        self.stopping = False
        self.failed = False

    def start(self, name: str, command: list[str]) -> None:
        proc = subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        self.selector.register(proc.stdout, selectors.EVENT_READ, name)
        self.procs[name] = proc
        self.partial[name] = b""

    def running(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def stop_soon(self) -> None:
        """From a signal handler: the loop in :meth:`relay_output` ends at its next turn."""
        self.stopping = True

    def relay_output(self, timeout: float = 0.2) -> bool:
        """Relay what the processes said within `timeout` s; False once it is time to stop (asked
        to, or a process exited: the others are no use without it)."""
        if self.stopping:
            return False
        for key, _ in self.selector.select(timeout=timeout):
            self._take(key.data, key.fileobj.read())  # type: ignore[union-attr]
        exited = [name for name, proc in self.procs.items() if proc.poll() is not None]
        if exited:
            for name in exited:  # what it said last, before the line saying it is gone
                self._drain(name)
            statuses = ", ".join(str(self.procs[name].returncode) for name in exited)
            self.console.say(f"make run: {', '.join(exited)} exited (status {statuses}); stopping the rest")
            self.failed = True
            return False
        return not self.stopping

    def stop_all(self, grace: float = 30.0) -> int:
        """SIGTERM to each still running, SIGKILL after `grace` s; relay their last words. Exit
        status 1 if a process ended on its own, else 0."""
        self.console.say("make run: stopping ...")
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for name in self.procs:
            self._drain(name)
        return 1 if self.failed else 0

    def _drain(self, name: str, within: float = 1.0) -> None:
        """Relay what an exited process left in its pipe, up to its end or for `within` s (a
        worker it left behind may hold the pipe open)."""
        stream = self.procs[name].stdout
        assert stream is not None
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0 and select.select([stream], [], [], left)[0]:
            chunk = stream.read()
            if chunk == b"":
                break
            self._take(name, chunk)
        if self.partial[name]:  # a last line without its newline
            self.console.relay(name, [self.partial[name]])
            self.partial[name] = b""

    def _take(self, name: str, chunk: bytes | None) -> None:
        if not chunk:
            return
        *lines, self.partial[name] = (self.partial[name] + chunk).split(b"\n")
        if lines:
            self.console.relay(name, lines)
