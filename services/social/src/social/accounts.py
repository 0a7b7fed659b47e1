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

from email_validator import EmailNotValidError, validate_email
from microblog_contracts import mail_address
from microblog_contracts.user_followed import Nickname
from pydantic import TypeAdapter, ValidationError

from social.nicknames import nickname_problem
from social.translate import _

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
    """An address refused; `library_words` when the message is email-validator's, which is in
    English only (:func:`social.forms.address_problem` puts it in the page's language)."""

    def __init__(self, message: str, *, library_words: bool = False) -> None:
        super().__init__(message)
        self.library_words = library_words


def normalize_nickname(raw: str) -> str:
    """A new nickname as stored (NFKC), or :class:`InvalidNickname` saying what is wrong: the
    contract's rule, then :func:`social.nicknames.nickname_problem`'s (look-alikes, reserved
    names). Existing accounts keep their nicknames: lookups use :func:`is_valid_nickname`."""
    nickname = unicodedata.normalize("NFKC", raw)
    if nickname in RESERVED_NICKNAMES:
        raise InvalidNickname(_("A nickname needs a letter, digit, '_' or '-'."))
    problem = nickname_problem(nickname)
    if problem is not None:
        raise InvalidNickname(problem)
    return _contract_nickname(nickname)


def _contract_nickname(nickname: str) -> str:
    try:
        return _nickname.validate_python(nickname)
    except ValidationError:
        if not nickname:
            raise InvalidNickname(_("A nickname needs at least one character.")) from None
        if len(nickname) > NICKNAME_MAX:
            raise InvalidNickname(_("A nickname has at most %(max)d characters.", max=NICKNAME_MAX)) from None
        raise InvalidNickname(_("Use only letters, digits, '.', '_' and '-' in a nickname.")) from None


def is_valid_nickname(raw: str) -> bool:
    """Whether `raw` could name an account at all, new or old; lets lookups skip the database for junk."""
    try:
        _contract_nickname(unicodedata.normalize("NFC", raw))
    except InvalidNickname:
        return False
    return True


def lookup_keys(raw: str) -> tuple[str, ...]:
    """The keys an account named `raw` may be stored under: its NFKC form's (every account made
    since nicknames are NFKC-normalised) and, for older ones, its NFC form's; the exact one first."""
    exact = nickname_key(raw)
    compatible = nickname_key(unicodedata.normalize("NFKC", raw))
    return (exact,) if compatible == exact else (exact, compatible)


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

    An internationalised domain is read by IDNA 2008 with UTS #46 mapping (email-validator's):
    `x@faß.de` stays `faß.de` (IDNA 2003 made it `fass.de`, another domain), and is mailed to as
    its A-label, `x@xn--fa-hia.de`, which must fit SMTP's limits too.
    """
    try:
        normalized = mail_address(raw).lower()
    except ValueError as exc:
        raise InvalidEmail(str(exc), library_words=True) from None
    if len(normalized) > EMAIL_MAX or len(mailable_form(normalized)) > EMAIL_MAX:
        raise InvalidEmail(_("An e-mail address has at most %(max)d characters.", max=EMAIL_MAX))
    return normalized


def mailable_form(address: str) -> str:
    """The address as SMTP carries it without SMTPUTF8: its domain as an IDNA 2008 A-label."""
    try:
        result = validate_email(address, check_deliverability=False, test_environment=True, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc), library_words=True) from None
    return str(result.ascii_email)


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA time zone names a user may choose, sorted (read from the tz database once)."""
    names = zoneinfo.available_timezones() | {"UTC"}
    return tuple(sorted(name for name in names if _TIME_ZONE_PATTERN.fullmatch(name)))


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone name zoneinfo knows, such as `Europe/Berlin`."""
    return name in time_zone_names()
