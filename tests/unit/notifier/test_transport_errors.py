from __future__ import annotations

import smtplib
import socket
import ssl

import pytest
from notifier.errors import (
    PermanentError,
    SmtpAuthRefused,
    SmtpRecipientRefused,
    SmtpSenderRefused,
    SmtpTlsError,
    SmtpUnavailable,
    TransientError,
)
from notifier.transport import translate


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(111, "Connection refused"), SmtpUnavailable),
        (TimeoutError("timed out"), SmtpUnavailable),
        (socket.gaierror(-2, "Name or service not known"), SmtpUnavailable),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), SmtpUnavailable),
        (smtplib.SMTPDataError(451, b"try again later"), SmtpUnavailable),
        (smtplib.SMTPRecipientsRefused({"x@example.com": (450, b"mailbox busy")}), SmtpUnavailable),
        (smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"mailbox unavailable")}), SmtpRecipientRefused),
        (smtplib.SMTPDataError(554, b"rejected"), SmtpRecipientRefused),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), SmtpAuthRefused),
        (smtplib.SMTPSenderRefused(553, b"not allowed", "a@example.com"), SmtpSenderRefused),
        (smtplib.SMTPSenderRefused(421, b"busy", "a@example.com"), SmtpUnavailable),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), SmtpTlsError),
    ],
)
def test_smtp_failures_get_our_names(error: BaseException, expected: type[Exception]) -> None:
    assert isinstance(translate(error), expected)


def test_only_recipient_refusals_are_permanent() -> None:
    assert issubclass(SmtpRecipientRefused, PermanentError)
    for transient in (SmtpUnavailable, SmtpAuthRefused, SmtpSenderRefused, SmtpTlsError):
        assert issubclass(transient, TransientError)


def test_a_refused_login_says_so_without_the_password() -> None:
    message = str(translate(smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid")))
    assert message.startswith("login refused: 535")
