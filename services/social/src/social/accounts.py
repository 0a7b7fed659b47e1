"""The rules a nickname, an e-mail address and a locale must follow, shared by pages and API.

Nicknames follow the event contract's rule (:data:`microblog_contracts.user_followed.Nickname`)
so every stored user can appear in a `user.followed` event. They are unique regardless of case:
"Susan" and "susan" are the same account, found by :func:`nickname_key`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo

from microblog_contracts import mail_address
from microblog_contracts.user_followed import Nickname
from pydantic import TypeAdapter, ValidationError

NICKNAME_MAX = 64
#: The contract's pattern, repeated for the OpenAPI document (`\w` is any script's letters).
NICKNAME_PATTERN = r"^[\w.-]+$"
ABOUT_ME_MAX = 280
PASSWORD_MIN = 8
#: Hashing a megabyte "password" is a cheap way to burn our CPU; nobody types more than this.
PASSWORD_MAX = 128
EMAIL_MAX = 254

#: Locales the pages offer, as BCP 47 tags with their own name; the API accepts the same set.
LOCALES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "ja": "日本語",
    "pt-BR": "Português (Brasil)",
    "zh-CN": "简体中文",
}
DEFAULT_LOCALE = "en"
#: The contract's rule for a time zone name (:data:`microblog_contracts.profiles.TimeZone`).
_TIME_ZONE_PATTERN = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")

_nickname = TypeAdapter(Nickname)
#: Valid by the contract's rule, but as a URL path segment they mean "here" and "up".
RESERVED_NICKNAMES = frozenset({".", ".."})


class InvalidNickname(ValueError):
    """A nickname that breaks the contract's rule."""


class InvalidEmail(ValueError):
    """An address email-validator refuses."""


def normalize_nickname(raw: str) -> str:
    """The nickname as stored (NFC), or :class:`InvalidNickname` saying what is wrong."""
    nickname = unicodedata.normalize("NFC", raw)
    if nickname in RESERVED_NICKNAMES:
        raise InvalidNickname("A nickname needs a letter, digit, '_' or '-'.")
    try:
        return _nickname.validate_python(nickname)
    except ValidationError:
        if not nickname:
            raise InvalidNickname("A nickname needs at least one character.") from None
        if len(nickname) > NICKNAME_MAX:
            raise InvalidNickname(
                f"A nickname has at most {NICKNAME_MAX} characters."
            ) from None
        raise InvalidNickname(
            "Use only letters, digits, '.', '_' and '-' in a nickname."
        ) from None


def is_valid_nickname(raw: str) -> bool:
    """Whether `raw` could be a nickname at all; lets lookups skip the database for junk."""
    try:
        normalize_nickname(raw)
    except InvalidNickname:
        return False
    return True


def nickname_key(nickname: str) -> str:
    """The case-insensitive form a nickname is unique and looked up by."""
    return unicodedata.normalize("NFC", nickname).casefold()


def normalize_email(raw: str) -> str:
    """The address as stored: normalized by email-validator, then lower-cased.

    The rules are the event contract's own (`microblog_contracts.mail_address`: syntax only, no
    DNS lookup, `.test` allowed, an ASCII local part), so an address accepted here can always
    be put in a `user.followed` event and mailed. Lower-casing the local part too makes
    `Susan@x.org` and `susan@x.org` one account; no mail provider we deliver to treats them
    differently.
    """
    try:
        normalized = mail_address(raw).lower()
    except ValueError as exc:
        raise InvalidEmail(str(exc)) from None
    if len(normalized) > EMAIL_MAX:
        raise InvalidEmail(f"An e-mail address has at most {EMAIL_MAX} characters.")
    return normalized


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA time zone names a user may choose, sorted (read from the tz database once)."""
    names = zoneinfo.available_timezones() | {"UTC"}
    return tuple(sorted(name for name in names if _TIME_ZONE_PATTERN.fullmatch(name)))


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone name zoneinfo knows, such as `Europe/Berlin`."""
    return name in time_zone_names()
