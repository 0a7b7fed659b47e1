"""E-mail addresses the way every service must read them."""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, WithJsonSchema


def mail_address(value: str) -> str:
    """`value` checked and normalized: syntax only (no DNS), special-use domains refused except
    the `.test` names kept for testing (RFC 2606), and an ASCII local part, since mail is sent
    without SMTPUTF8. Raises ValueError saying what is wrong."""
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return str(result.normalized)


#: An address social accepts at sign-up and the notifier can mail.
MailAddress = Annotated[
    str,
    AfterValidator(mail_address),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
