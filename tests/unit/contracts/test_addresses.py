"""The contracts' address check: the quick path for common addresses agrees with the full one
(email_validator) on everything it lets through, and leaves everything else to it."""

from __future__ import annotations

import re

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st
from microblog_contracts.addresses import _plain, mail_address

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
#: Characters that make domains interesting: case, digits, hyphens, dots, Unicode, Punycode.
DOMAIN_CHARS = "abcxnz09-.AZé"
LABELS = st.sampled_from(["com", "test", "local", "localhost", "onion", "arpa", "invalid", "xn--bcher-kva",
                          "ab--cd", "example", "co", "c", "1", "ex-ample", "-ex", "ex-", "中国", "COM"])


def full(value: str) -> str | None:
    """What the full check makes of `value`, None when it refuses it."""
    try:
        return str(validate_email(value, check_deliverability=False, test_environment=True,
                                  allow_smtputf8=False).normalized)
    except EmailNotValidError:
        return None


def why_refused(value: str) -> str:
    """What the full check says of an address it refuses."""
    try:
        validate_email(value, check_deliverability=False, test_environment=True, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return re.escape(str(exc))
    raise AssertionError(f"{value!r} is accepted")


locals_ = st.text(ATEXT + ".\"é ", min_size=0, max_size=70)
domains = st.one_of(
    st.text(DOMAIN_CHARS, min_size=0, max_size=30),
    st.lists(st.one_of(LABELS, st.text(DOMAIN_CHARS.replace(".", ""), min_size=0, max_size=66)),
             min_size=1, max_size=5).map(".".join),
)


@settings(max_examples=3000, deadline=None)
@given(local=locals_, domain=domains)
def test_the_quick_path_takes_only_what_the_full_check_accepts_unchanged(local: str, domain: str) -> None:
    value = f"{local}@{domain}"
    if _plain(value):
        assert full(value) == value


@settings(max_examples=500, deadline=None)
@given(st.emails())
def test_generated_addresses_come_out_as_the_full_check_gives_them(value: str) -> None:
    expected = full(value)
    if expected is None:
        with pytest.raises(ValueError, match=why_refused(value)):
            mail_address(value)
    else:
        assert mail_address(value) == expected


@pytest.mark.parametrize("value", ["ana@example.com", "a.b+tag@mail.example.co", "x_y@sub-1.example.org",
                                   "o'brien@example.ie", "t1@example.test"])
def test_common_addresses_take_the_quick_path(value: str) -> None:
    assert _plain(value)
    assert mail_address(value) == value


@pytest.mark.parametrize(("value", "expected"), [
    ("Ana@Example.COM", "Ana@example.com"),  # the domain lower-cased by the full check
    ("ana@xn--bcher-kva.example", "ana@bücher.example"),  # Punycode read back as Unicode
    ("ana@bücher.example", "ana@bücher.example"),
    (f"{'a' * 65}@example.com", f"{'a' * 65}@example.com"),  # past RFC 5321's 64, which the full check allows
])
def test_the_rest_is_normalized_by_the_full_check(value: str, expected: str) -> None:
    assert not _plain(value)
    assert mail_address(value) == expected


@pytest.mark.parametrize("value", ["ana@localhost", "ana@printer.local", "ana@x.onion", "ana@example",
                                   "ana..b@example.com", ".ana@example.com", "ana@-example.com",
                                   "ana@ex--ample.com.ab--cd", "ané@example.com",
                                   f"ana@{'a' * 250}.com", "ana@example.c0m1"])
def test_what_either_refuses_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=why_refused(value)):
        mail_address(value)
