"""The notifier's failures, by what the retry policy should do about them.

Library errors (smtplib, pika, SQLAlchemy) are translated into these at the module that talks
to the library, so the rest of the code reads one small hierarchy.
"""

from __future__ import annotations


class NotifierError(Exception):
    """Base of every failure the notifier names."""


class TransientError(NotifierError):
    """Worth trying again later: the same message may well succeed."""


class PermanentError(NotifierError):
    """Trying again cannot help: the message goes to the dead-letter queue."""


class SmtpUnavailable(TransientError):
    """The SMTP server could not be reached, dropped us, timed out or answered 4xx."""


class SmtpAuthRefused(TransientError):
    """The SMTP server refused our login: an operator must fix the credentials.

    Transient, so messages retry and, if the fix is slow, dead-letter and can be replayed.
    """


class SmtpSenderRefused(TransientError):
    """The SMTP server refused our sender address: a configuration problem, like a bad login."""


class SmtpRecipientRefused(PermanentError):
    """The SMTP server refused this recipient or message for good (5xx)."""


class SmtpTlsError(TransientError):
    """TLS failed: certificate not trusted, name mismatch, or TLS where the server has none."""


class RenderError(PermanentError):
    """A template failed to render this event (a missing variable, a syntax error)."""


class BrokerUnavailable(TransientError):
    """RabbitMQ could not be reached or closed the connection."""


class LedgerUnavailable(TransientError):
    """The delivery ledger database did not answer."""
