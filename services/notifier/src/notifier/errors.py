"""The notifier's failures, by what the retry policy should do about them.

Library errors (smtplib, pika, SQLAlchemy) are translated into these at the one module that
talks to the library (`transport.translate`, `broker.translate`, the ledger store), so the rest
of the code reads one small hierarchy. Each class names the stable `kind` code its failures
carry into dead-letter headers, metrics, alerts and `notifier dlq list` (see `failures.Failure`).
"""

from __future__ import annotations

from typing import ClassVar


class NotifierError(Exception):
    """Base of every failure the notifier names."""

    kind: ClassVar[str] = "internal_error"


class TransientError(NotifierError):
    """Worth trying again later: the same message may well succeed."""


class PermanentError(NotifierError):
    """Trying again cannot help: the message goes to the dead-letter queue."""


class SmtpUnavailable(TransientError):
    """The SMTP server could not be reached, dropped us, timed out or answered 4xx."""

    kind = "smtp_unavailable"


class SmtpCongested(SmtpUnavailable):
    """The server pushed back on the number of sessions: 421, a refused connection, a timeout.

    The kind stays `smtp_unavailable`; the type tells the concurrency limit to shrink
    (:mod:`notifier.concurrency`).
    """


class SmtpAuthRefused(TransientError):
    """The SMTP server refused our login: an operator must fix the credentials.

    Transient, so messages retry and, if the fix is slow, dead-letter and can be replayed.
    """

    kind = "smtp_auth_refused"


class SmtpSenderRefused(TransientError):
    """The SMTP server refused our sender address: a configuration problem, like a bad login."""

    kind = "smtp_sender_refused"


class SmtpTlsError(TransientError):
    """TLS failed: certificate not trusted, name mismatch, or TLS where the server has none."""

    kind = "smtp_tls"


class SmtpRecipientRefused(PermanentError):
    """The SMTP server refused this recipient or message for good (5xx)."""

    kind = "recipient_refused"


class BadAddress(PermanentError):
    """An address that cannot go into an SMTP envelope."""

    kind = "bad_address"


class RenderError(PermanentError):
    """A template failed to render this event (a missing variable, a syntax error)."""

    kind = "render_failed"


class BadAttachment(PermanentError):
    """An announcement's attachment chunk that cannot be read (not base64)."""

    kind = "bad_attachment"


class BrokerUnavailable(TransientError):
    """RabbitMQ could not be reached, refused us, or closed the connection or channel."""

    kind = "broker_unavailable"


class RepublishRefused(BrokerUnavailable):
    """The broker would not take a copy of a message (unroutable, or nacked)."""

    kind = "republish_refused"


class LedgerUnavailable(TransientError):
    """The delivery ledger database did not answer."""

    kind = "ledger_unavailable"
