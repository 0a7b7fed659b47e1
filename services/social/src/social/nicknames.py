"""What a new nickname may look like, so that no one can pass for someone else.

A sign-up's nickname is NFKC-normalised (fullwidth `\uff53\uff55\uff53\uff41\uff4e` is `susan`), may hold
no invisible or joining character and no combining mark without a letter before it, keeps to one script (Unicode's
"highly restrictive" level, UTS #39 §5.2: Chinese, Japanese and Korean names may mix their scripts
with Latin), is none of :data:`RESERVED` and does not look like a taken one: two nicknames whose
UTS #39 *skeletons* are equal (`\u0430dmin` with a Cyrillic a, `admin`) cannot both exist.

The skeletons come from Unicode's `confusables.txt` (shipped in `social/data/`, with its terms of
use in its header); scripts from the `confusable_homoglyphs` package's copy of `Scripts.txt`.
"""

from __future__ import annotations

import functools
import gzip
import unicodedata
from importlib import resources

from confusable_homoglyphs import categories  # type: ignore[import-untyped]

from social.translate import _

#: Names of roles people trust, and the site's own paths: none may be a user's.
RESERVED = frozenset({
    "abuse", "admin", "administrator", "api", "auth", "avatar", "billing", "confirm", "contact", "edit_profile",
    "follow", "healthz", "help", "hostmaster", "index", "info", "login", "logout", "mail", "mailer-daemon", "me",
    "metrics", "microblog", "moderator", "noreply", "no-reply", "null", "official", "openapi", "postmaster",
    "privacy", "readyz", "register", "reset_password", "reset_password_request", "root", "security", "settings",
    "staff", "static", "support", "system", "terms", "undefined", "unfollow", "unsubscribe", "user", "users",
    "webmaster", "www",
})

#: Scripts a nickname may mix (besides Common and Inherited characters: digits, `.`, `_`, `-`).
_SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
#: Letters that show as nothing (Hangul fillers, a braille blank), which no category gives away.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def nickname_problem(nickname: str) -> str | None:
    """Why an NFKC-normalised `nickname` cannot be a new one, in words; None when it can.

    Only the rules of this module: the contract's own (letters, digits, `.`, `_`, `-`, 64 at
    most) are :func:`social.accounts.normalize_nickname`'s.
    """
    for index, char in enumerate(nickname):
        if char in _BLANK_LETTERS or (char != " " and unicodedata.category(char) in _INVISIBLE_CATEGORIES):
            return _("A nickname cannot hold invisible or joining characters.")
        if unicodedata.category(char).startswith("M") and (index == 0 or not nickname[index - 1].isalpha()):
            return _("A nickname cannot hold an accent or mark without a letter before it.")
    scripts = categories.unique_aliases(nickname) - _NEUTRAL_SCRIPTS
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
        return _("A nickname keeps to one script (Chinese, Japanese and Korean names may mix theirs, and Latin).")
    if nickname_skeleton(nickname) in _reserved_skeletons():
        return _("That nickname is reserved; please pick another.")
    return None


def nickname_skeleton(nickname: str) -> str:
    """The key under which nicknames that look alike, in any case, are one.

    A skeleton alone is case-sensitive (`I` looks like `l`, `i` does not) and a case-fold alone
    knows no look-alikes, so both are taken in turn: the skeleton of the upper case (`ADMIN` ->
    `ADMlN`), case-folded, skeleton again (`admln`, `adrnln`). `admin`, `ADMlN`, `\u0430dmin` and
    `adrnin` share one.
    """
    upper = unicodedata.normalize("NFKC", nickname).upper()
    return skeleton(unicodedata.normalize("NFKC", skeleton(upper)).casefold())


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(char, char) for char in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


@functools.cache
def _prototypes() -> dict[str, str]:
    """confusables.txt as {character: prototype}, read once."""
    found: dict[str, str] = {}
    data = resources.files("social").joinpath("data/confusables.txt.gz").read_bytes()
    for line in gzip.decompress(data).decode("utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 3:
            continue
        source = "".join(chr(int(code, 16)) for code in fields[0].split())
        found[source] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return found


@functools.cache
def _reserved_skeletons() -> frozenset[str]:
    return frozenset(nickname_skeleton(name) for name in RESERVED)
