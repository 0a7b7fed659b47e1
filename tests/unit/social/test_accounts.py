"""The rules for nicknames and e-mail addresses, shared by pages and API."""

from __future__ import annotations

import typing

import pytest
from microblog_contracts.user_followed import Nickname
from social.accounts import (
    NICKNAME_PATTERN,
    InvalidEmail,
    InvalidNickname,
    nickname_key,
    normalize_email,
    normalize_nickname,
)


@pytest.mark.parametrize("nickname", ["susan", "Zoë", "李雷", "a.b-c_d", "x" * 64, "..."])
def test_nicknames_of_any_script_with_dots_dashes_and_underscores_are_accepted(
    nickname: str,
) -> None:
    assert normalize_nickname(nickname) == nickname


@pytest.mark.parametrize(
    "nickname", ["", "x" * 65, "two words", "semi;colon", "slash/", "new\n", "nul\x00", ".", ".."]
)
def test_nicknames_breaking_the_rule_are_refused_with_a_reason(nickname: str) -> None:
    with pytest.raises(InvalidNickname, match=r"\w"):
        normalize_nickname(nickname)


def test_the_nickname_pattern_is_the_event_contracts_pattern() -> None:
    metadata = typing.get_args(Nickname)[1].metadata
    assert any(getattr(item, "pattern", None) == NICKNAME_PATTERN for item in metadata)


def test_nicknames_differing_only_in_case_share_one_key() -> None:
    assert nickname_key("Susan") == nickname_key("SUSAN") == nickname_key("susan")


def test_decomposed_and_composed_accents_are_one_nickname() -> None:
    assert normalize_nickname("Zoe\u0308") == "Zo\u00eb"


def test_email_addresses_are_stored_normalized_and_lower_cased() -> None:
    assert normalize_email("Susan.Smith@Example.COM") == "susan.smith@example.com"


def test_addresses_are_checked_without_a_dns_lookup_and_test_domains_pass() -> None:
    assert normalize_email("bob@no-such-domain-for-sure.example") == "bob@no-such-domain-for-sure.example"
    assert normalize_email("bob@mail.test") == "bob@mail.test"


@pytest.mark.parametrize("email", ["jöhn@example.com", "bob@localhost.localhost"])
def test_addresses_the_event_contract_or_smtp_cannot_carry_are_refused(email: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(email)


def test_every_accepted_address_fits_the_event_contract() -> None:
    from microblog_contracts import FollowedUser

    address = normalize_email("Zoë.Writer+blog@Example.ORG".replace("ë", "e"))
    assert FollowedUser(id=1, nickname="zoe", email=address).email == address


@pytest.mark.parametrize(
    "email", ["", "nope", "a@", "@b.com", "a b@c.com", "a@b@c.com", "a@localhost"]
)
def test_malformed_email_addresses_are_refused(email: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(email)
