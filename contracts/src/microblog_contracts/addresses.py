"""E-mail addresses the way every service must read them."""

from __future__ import annotations

import re
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator, WithJsonSchema

#: The common address, already in the form the full check would give back: an ASCII dot-atom
#: local part, a lower-case LDH domain of two or more labels ending in letters, no label with
#: hyphens in its third and fourth places (Punycode's `xn--` and the reserved R-LDH labels take the
#: full check). Every event carries one or two addresses and the full check costs about 50 µs, a
#: tenth of the notifier's CPU per mail; this one about 1 µs (tests/unit/contracts prove the two
#: agree on everything this pattern lets through).
_PLAIN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?!..--)[a-z]{2,63}"
)
_LOCAL_MAX, _ADDRESS_MAX = 64, 254
#: Special-use domains (RFC 6761) the full check refuses; `.test` is allowed (test_environment).
_SPECIAL = tuple(name for name in SPECIAL_USE_DOMAIN_NAMES if name != "test")


def _plain(value: str) -> bool:
    """Whether `value` is a common address the full check would accept unchanged."""
    if len(value) > _ADDRESS_MAX or _PLAIN.fullmatch(value) is None:
        return False
    local, _, domain = value.rpartition("@")
    if len(local) > _LOCAL_MAX:
        return False
    return not any(domain == name or domain.endswith("." + name) for name in _SPECIAL)


def mail_address(value: str) -> str:
    """`value` checked and normalized: syntax only (no DNS), special-use domains refused except
    the `.test` names kept for testing (RFC 2606), and an ASCII local part, since mail is sent
    without SMTPUTF8. Raises ValueError saying what is wrong."""
    if _plain(value):
        return value
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
