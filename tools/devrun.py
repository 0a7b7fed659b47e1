"""`make run`: the whole system on this machine, with defaults that need no setting up.

Starts a local SMTP sink (127.0.0.1:8025, mail kept in var/mail/), brings the SQLite database
to the current schema, then runs the web app, the outbox relay and the notifier against the
RabbitMQ at AMQP_URL. Output of each is prefixed with its name; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COLOURS = {"mail": "35", "web": "32", "relay": "36", "notifier": "33"}

DEFAULTS = {
    "AMQP_URL": "amqp://guest:guest@localhost:5672/%2F",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": "8025",
    "ADMINS": "admin@microblog.local",
    "LOG_FORMAT": "console",
    # For trying things out: a follow's mail goes seconds after it, not a minute, and a burst
    # gathers for half a minute, not a quarter of an hour (set either to change it).
    "NOTIFIER_FOLLOW_GRACE": "5s",
    "NOTIFIER_BATCH_WINDOW": "30s",
}


def broker_answers(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or (5671 if parts.scheme == "amqps" else 5672)
    try:
        with socket.create_connection((host, port), timeout=2):
            return host, port, True
    except OSError:
        return host, port, False


def main() -> int:
    env = {**DEFAULTS, **os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    host, port, ok = broker_answers(env["AMQP_URL"])
    if not ok:
        print(f"make run: no RabbitMQ answers at {host}:{port} (AMQP_URL); start one with "
              "`rabbitmq-server -detached` or `docker compose up -d rabbitmq`, then run `make run` again.",
              file=sys.stderr)
        return 1
    os.chdir(ROOT)
    Path("var/mail").mkdir(parents=True, exist_ok=True)
    upgrade = subprocess.run([str(BIN / "social"), "db", "upgrade"], env=env, capture_output=True, text=True)
    if upgrade.returncode != 0:
        sys.stderr.write(upgrade.stdout + upgrade.stderr)
        print("make run: `social db upgrade` failed (above)", file=sys.stderr)
        return 1

    commands = {
        "mail": [sys.executable, str(ROOT / "tools" / "mailsink.py"), "--port", env["MAIL_PORT"]],
        "web": [str(BIN / "social"), "serve"],
        "relay": [str(BIN / "social"), "relay"],
        "notifier": [str(BIN / "notifier"), "run"],
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    selector = selectors.DefaultSelector()
    for name, cmd in commands.items():
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        procs[name] = proc
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        selector.register(proc.stdout, selectors.EVENT_READ, name)
        if name == "mail":
            time.sleep(0.3)  # let the sink listen before the notifier looks for it

    base = env.get("SOCIAL_BASE_URL", "http://127.0.0.1:5000")
    print(f"\n  Microblog is starting: open {base}/ and register two users. Each gets a mail with a link to\n"
          f"  confirm the address (only confirmed addresses get notifications): mail lands in the sink on\n"
          f"  127.0.0.1:{env['MAIL_PORT']} and var/mail/, and its link shows below: open it, press Confirm\n"
          f"  (or: .venv/bin/social users confirm NICKNAME), then follow one user with the other.\n"
          f"  Here a follow's mail waits NOTIFIER_FOLLOW_GRACE={env['NOTIFIER_FOLLOW_GRACE']} (60s by default) so an\n"
          f"  undone follow mails nobody, and a burst gathers for NOTIFIER_BATCH_WINDOW="
          f"{env['NOTIFIER_BATCH_WINDOW']} (15m).\n"
          f"  Ctrl-C stops everything.\n", flush=True)
    stopping = False

    def stop_all(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    buffers = {name: b"" for name in procs}
    while not stopping:
        for key, _ in selector.select(timeout=0.2):
            name = key.data
            chunk = key.fileobj.read()  # type: ignore[union-attr]
            if chunk:
                buffers[name] += chunk
                *lines, buffers[name] = buffers[name].split(b"\n")
                for line in lines:
                    colour = COLOURS.get(name, "0")
                    sys.stdout.write(f"\x1b[{colour}m{name:>8} |\x1b[0m {line.decode(errors='replace')}\n")
                sys.stdout.flush()
        exited = [n for n, p in procs.items() if p.poll() is not None]
        if exited:
            print(f"make run: {', '.join(exited)} exited (status "
                  f"{', '.join(str(procs[n].returncode) for n in exited)}); stopping the rest", file=sys.stderr)
            break
    print("\nstopping ...", flush=True)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    for name, proc in procs.items():  # what each said on its way out
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), True)
        rest = buffers[name] + proc.stdout.read()
        for line in rest.decode(errors="replace").splitlines():
            sys.stdout.write(f"\x1b[{COLOURS.get(name, '0')}m{name:>8} |\x1b[0m {line}\n")
    sys.stdout.flush()
    return 0 if stopping else 1


if __name__ == "__main__":
    raise SystemExit(main())
