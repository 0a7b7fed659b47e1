"""A local SMTP sink for `make run`: accepts every mail, prints a line for it, keeps it as
an .eml file. Not a mail server: it never delivers anything anywhere.

usage: python tools/mailsink.py [--host 127.0.0.1] [--port 8025] [--maildir var/mail]
"""

from __future__ import annotations

import argparse
import email
import email.message
import email.policy
import re
import signal
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class KeepAndShow:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content or b"")
        self.count += 1
        path = self.maildir / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}.eml"
        path.write_bytes(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        print(f"mail #{self.count} to {', '.join(envelope.rcpt_tos)}: {message['subject']}  ({path})", flush=True)
        for link in action_links(message):
            print(f"    open it to go on: {link}", flush=True)
        return "250 OK: kept in the local sink"


#: Links a reader of this console needs without opening the mail: confirming, resetting.
_ACTION_LINK = re.compile(r"https?://\S+/(?:confirm|reset_password)/\S+")


def action_links(message: email.message.Message) -> list[str]:
    """The confirmation and password-reset links in a mail's text part."""
    body = message.get_body(("plain",)) if isinstance(message, email.message.EmailMessage) else None
    return _ACTION_LINK.findall(body.get_content()) if body is not None else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--maildir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    args.maildir.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepAndShow(args.maildir), hostname=args.host, port=args.port)
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        print(f"mailsink: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"mail sink on {args.host}:{args.port}, keeping mail in {args.maildir}/", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
