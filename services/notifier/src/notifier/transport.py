"""Sending over SMTP: one session reused across messages, smtplib's errors given our names.

Certificates are verified (smtplib does not unless handed an SSL context), the password is a
`SecretStr` until the moment of login, and nothing here logs.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from notifier.errors import (
    BadAddress,
    NotifierError,
    SmtpAuthRefused,
    SmtpCongested,
    SmtpRecipientRefused,
    SmtpSenderRefused,
    SmtpTlsError,
    SmtpUnavailable,
)
from notifier.mime import smtp_address
from notifier.settings import NotifierSettings

#: Lines of a message that start with a dot get a second one (RFC 5321 4.5.2).
_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")

def _mail_options(smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> list[str]:
    """SMTPUTF8 (RFC 6531) for an address whose local part is not ASCII, where the server offers
    it; where it does not, such an address cannot be mailed at all (a permanent failure)."""
    if sender.isascii() and all(r.isascii() for r in recipients):
        return []
    if not smtp.has_extn("smtputf8"):
        raise BadAddress("an address whose local part is not ASCII needs SMTPUTF8, which MAIL_SERVER does not offer")
    return ["SMTPUTF8", "BODY=8BITMIME"] if smtp.has_extn("8bitmime") else ["SMTPUTF8"]


def _data(message: bytes) -> bytes:
    """The DATA of `message`: dot-stuffed where a line starts with a dot (RFC 5321 4.5.2; looked
    for first, since base64 parts never have one), and ended by a lone dot."""
    if message.startswith(b".") or b"\n." in message:
        message = _DOT_AT_LINE_START.sub(b"..", message)
    end = b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"
    return message + end


#: A session idle this long is checked with NOOP before use: servers close idle sessions.
IDLE_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect: the tutorial's MAIL_* settings."""

    host: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = 30.0
    ca_file: Path | None = None
    local_hostname: str | None = None

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> SmtpConfig:
        return cls(
            host=settings.mail_server,
            port=settings.mail_port,
            use_tls=settings.mail_use_tls,
            use_ssl=settings.mail_use_ssl,
            username=settings.mail_username,
            password=settings.mail_password,
            timeout=settings.mail_timeout,
            ca_file=settings.mail_ca_file,
            local_hostname=socket.gethostname(),
        )

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying context: the system's CAs, or only MAIL_CA_FILE's when that is set."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


class Transport(Protocol):
    """What the pipeline sends with: an SMTP session (:class:`SmtpTransport`), or a fake."""

    def send(self, sender: str, recipients: list[str], message: bytes) -> str: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP session, opened on first use and reopened when the server has dropped it.

    Not thread-safe: give each worker thread its own.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0
        self._data_started = False

    def send(self, sender: str, recipients: list[str], message: bytes) -> str:
        """Hand `message` to the server; return its final reply, e.g. `"250 2.0.0 Ok: queued"`.

        Raises SmtpUnavailable (SmtpCongested when the server pushes back on the number of
        sessions), SmtpAuthRefused, SmtpSenderRefused, SmtpTlsError (try later) or
        SmtpRecipientRefused (never); BadAddress for an address that cannot go into an envelope.
        Each recipient goes into the envelope as SMTP wants it (its domain's A-label).
        """
        recipients = [smtp_address(r) for r in recipients]
        for fresh_try in (False, True):
            reused = self._smtp is not None
            try:
                return self._transaction(self._session(), sender, recipients, message)
            except smtplib.SMTPServerDisconnected as exc:
                self.close()
                # A reused session the server had dropped while idle, noticed at MAIL FROM
                # (before any of the message went out): worth one fresh session.
                if fresh_try or not reused or self._data_started:
                    raise translate(exc) from None
            except NotifierError:
                self.close()
                raise
            except BaseException as exc:
                self._reset_after(exc)
                raise translate(exc) from None
        raise AssertionError("unreachable")

    def _transaction(self, smtp: smtplib.SMTP, sender: str, recipients: list[str], message: bytes) -> str:
        self._data_started = False
        options = _mail_options(smtp, sender, recipients)
        if smtp.has_extn("pipelining"):
            return self._pipelined(smtp, sender, recipients, message, options)
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        self._data_started = True
        code, reply = smtp.data(message)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        self._last_used = time.monotonic()
        return f"{code} {reply.decode(errors='replace')}"

    def _pipelined(self, smtp: smtplib.SMTP, sender: str, recipients: list[str], message: bytes,
                   options: list[str]) -> str:
        """MAIL, RCPT and DATA in one write, then the message (RFC 2920): two round trips a
        mail instead of four. smtplib has no pipelining, so this speaks the commands itself."""
        commands = [" ".join([f"MAIL FROM:{smtplib.quoteaddr(sender)}", *options])]
        commands += [f"RCPT TO:{smtplib.quoteaddr(r)}" for r in recipients]
        commands.append("DATA")
        smtp.send("".join(f"{c}\r\n" for c in commands).encode())
        mail_reply = smtp.getreply()
        rcpt_replies = [smtp.getreply() for _ in recipients]
        data_code, data_reply = smtp.getreply()
        failure: smtplib.SMTPException | None = None
        if mail_reply[0] != 250:
            failure = smtplib.SMTPSenderRefused(mail_reply[0], mail_reply[1], sender)
        else:
            pairs = zip(recipients, rcpt_replies, strict=True)
            refused = {r: reply for r, reply in pairs if reply[0] not in (250, 251)}
            if refused:
                failure = smtplib.SMTPRecipientsRefused(refused)
            elif data_code != 354:
                failure = smtplib.SMTPDataError(data_code, data_reply)
        if failure is not None:
            if data_code == 354:  # the server wants a message after all: end it empty
                smtp.send(b".\r\n")
                smtp.getreply()
            raise failure
        self._data_started = True
        smtp.send(_data(message))
        code, reply = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        self._last_used = time.monotonic()
        return f"{code} {reply.decode(errors='replace')}"

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            try:
                self._smtp.noop()
            except (smtplib.SMTPException, OSError):
                self.close()
        if self._smtp is None:
            self._smtp = self._connect()
            self._last_used = time.monotonic()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.use_ssl:
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, local_hostname=cfg.local_hostname,
                                    timeout=cfg.timeout, context=cfg.ssl_context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, local_hostname=cfg.local_hostname, timeout=cfg.timeout)
        try:
            smtp.ehlo()
            if cfg.use_tls:
                if not smtp.has_extn("starttls"):
                    raise SmtpTlsError(f"{cfg.host}:{cfg.port} does not offer STARTTLS (MAIL_USE_TLS)")
                smtp.starttls(context=cfg.ssl_context())
                smtp.ehlo()
            if cfg.username is not None and cfg.password is not None:
                smtp.login(cfg.username, cfg.password.get_secret_value())
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def _reset_after(self, exc: BaseException) -> None:
        """Keep the session after a refusal the server answered; drop it after anything else."""
        if self._smtp is not None and isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
            try:
                self._smtp.rset()
                return
            except (smtplib.SMTPException, OSError):
                pass
        self.close()

    def close(self) -> None:
        """Say QUIT if the server still listens; forget the session either way."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(smtp)


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()


def translate(exc: BaseException) -> NotifierError:
    """smtplib, ssl and socket errors as the notifier's named failures.

    What says "fewer sessions, please" is SmtpCongested, as Postfix's scheduler reads it: a 421
    (the server closing the session: too many connections, shutting down), a refused connection,
    a timeout, a session dropped by the server.
    """
    if isinstance(exc, NotifierError):
        return exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SmtpAuthRefused(f"login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SmtpAuthRefused(f"the server does not support what we asked: {exc}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return _by_code(code, f"recipient refused: {code} {_text(reply)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if exc.smtp_code == 421:
            return SmtpCongested(f"sender deferred: {exc.smtp_code} {_text(exc.smtp_error)}")
        if 400 <= exc.smtp_code < 500:
            return SmtpUnavailable(f"sender deferred: {exc.smtp_code} {_text(exc.smtp_error)}")
        return SmtpSenderRefused(f"sender {exc.sender!r} refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SmtpTlsError(f"certificate refused: {exc.verify_message}")
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or exc
        return SmtpTlsError(f"TLS failed ({reason}): check MAIL_USE_SSL / MAIL_USE_TLS and MAIL_PORT")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if "timed out" in str(exc):  # smtplib reports a read timeout as a disconnection
            return SmtpCongested("timed out waiting for the SMTP server")
        detail = f" ({exc})" if str(exc) else ""
        return SmtpCongested(f"the server closed the connection{detail}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return SmtpCongested("timed out waiting for the SMTP server")
    if isinstance(exc, ConnectionRefusedError | ConnectionResetError):
        return SmtpCongested("connection refused" if isinstance(exc, ConnectionRefusedError)
                             else "the server reset the connection")
    if isinstance(exc, socket.gaierror):
        return SmtpUnavailable(f"cannot resolve the server name: {exc.strerror}")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return SmtpUnavailable(f"{type(exc).__name__}: {exc}")
    raise exc


def _by_code(code: int, message: str) -> NotifierError:
    if code >= 500:
        return SmtpRecipientRefused(message)
    return SmtpCongested(message) if code == 421 else SmtpUnavailable(message)


def _text(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]
