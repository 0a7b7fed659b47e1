"""A real SMTP server (aiosmtpd) that records what it accepts, for tests; optionally one that
answers 421 to sessions above a number, as a server limiting its clients' connections does."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.services import free_port
from tests.support.wait import wait_for


@dataclass
class ReceivedMail:
    """One message the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    peer: object = None
    tls: bool = False


@dataclass
class RecordingHandler:
    """Accepts every message (or answers what `responder` says) and keeps it."""

    received: list[ReceivedMail] = field(default_factory=list)
    responder: Callable[[Envelope], str | None] | None = None
    delay: float = 0.0
    #: Advertise PIPELINING, as most real servers do (the notifier then pipelines its commands).
    pipelining: bool = True
    sessions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Sessions open at once above which a new one is answered 421 and closed (None: no limit).
    max_sessions: int | None = None
    #: Sessions open now (admitted), the most ever open at once, and every connection as it came:
    #: (mails accepted by then, refused with 421?).
    open_sessions: int = 0
    peak_sessions: int = 0
    arrivals: list[tuple[int, bool]] = field(default_factory=list)

    def admit(self) -> bool:
        """A connection arrived: admit it, or say it gets a 421 (over `max_sessions`)."""
        with self.lock:
            refused = self.max_sessions is not None and self.open_sessions >= self.max_sessions
            self.arrivals.append((len(self.received), refused))
            if not refused:
                self.open_sessions += 1
                self.peak_sessions = max(self.peak_sessions, self.open_sessions)
            return not refused

    def left(self) -> None:
        """An admitted session ended."""
        with self.lock:
            self.open_sessions -= 1

    async def handle_EHLO(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.responder is not None:
            answer = self.responder(envelope)
            if answer is not None:
                return answer
        raw = bytes(envelope.original_content or envelope.content or b"")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.received.append(
                ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), raw, message,  # type: ignore[arg-type]
                             peer=session.peer, tls=session.ssl is not None)
            )
        return "250 Message accepted for delivery"


class _CountedSMTP(SMTP):
    """aiosmtpd's session, counted by the handler; a session over its limit gets 421 and is closed."""

    event_handler: RecordingHandler
    _admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:  # a new connection, not the same one after STARTTLS
            self._admitted = self.event_handler.admit()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._admitted:
            self._admitted = False
            self.event_handler.left()
        super().connection_lost(error)

    async def _handle_client(self) -> None:
        if self._admitted:
            await super()._handle_client()
            return
        await self.push("421 4.7.0 too many connections, try again later")
        assert self.transport is not None
        self.transport.close()


class _CountingController(Controller):
    def factory(self) -> SMTP:
        return _CountedSMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """An aiosmtpd server on a free localhost port, started and stopped by the test; with
    `max_sessions`, it answers 421 to a session above that many open at once."""

    def __init__(self, port: int | None = None, *, max_sessions: int | None = None, **kwargs: Any) -> None:
        self.handler = RecordingHandler(max_sessions=max_sessions)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._controller = _CountingController(self.handler, hostname=self.host, port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.received)

    def matching(self, *, to: str | None = None, subject: str | None = None) -> list[ReceivedMail]:
        """The mails received so far to `to` whose subject contains `subject`."""
        return [m for m in self.received if (to is None or to in m.rcpt_tos)
                and (subject is None or subject in str(m.message["Subject"]))]

    def wait_for_matching(self, count: int = 1, *, to: str | None = None, subject: str | None = None,
                          timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until at least `count` mails match (see :meth:`matching`); return the matching ones."""
        return wait_for(
            lambda: found if len(found := self.matching(to=to, subject=subject)) >= count else None,
            timeout=timeout,
            what=f"{count} mail(s) to {to or 'anyone'} about {subject or 'anything'!r}",
        )

    def wait_for_mails(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until at least `count` mails arrived; return all of them."""
        return wait_for(
            lambda: self.received if len(self.received) >= count else None,
            timeout=timeout,
            what=f"{count} mail(s) at the SMTP server",
        )
