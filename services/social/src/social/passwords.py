"""Which passwords a user may choose, checking one, and changing it.

A password is refused when it is among the 20,000 most common (Django's `CommonPasswordValidator`
list, by Royce Williams, shipped in `social/data/` under Django's BSD licence), or is the nickname,
the address or the address's local part, whatever their case. Checking a password for an account
that does not exist costs one hash as well, so the time an answer takes tells nothing.
"""

from __future__ import annotations

import functools
import gzip
from datetime import datetime
from importlib import resources

from werkzeug.security import check_password_hash, generate_password_hash

from social.accounts import PASSWORD_MAX, PASSWORD_MIN
from social.mail.tokens import MailToken, TokenPurpose
from social.models import User
from social.sessions import end_every_session
from social.translate import _, _l

TOO_COMMON = _l("This password is one of the most common ones; please choose another.")
LIKE_YOU = _l("A password cannot be your nickname or your e-mail address.")


def password_problem(password: str, *, nickname: str, email: str) -> str | None:
    """Why `password` may not be the password of the account `nickname` / `email`; None if it may."""
    if len(password) < PASSWORD_MIN:
        return _("A password has at least %(min)d characters.", min=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("A password has at most %(max)d characters.", max=PASSWORD_MAX)
    folded = password.strip().casefold()
    if folded in _common_passwords():
        return str(TOO_COMMON)
    if folded in {nickname.casefold(), email.casefold(), email.rpartition("@")[0].casefold()}:
        return str(LIKE_YOU)
    return None


def verify_password(user: User | None, password: str) -> bool:
    """Whether `password` is `user`'s; for no user, False after as long as a real check takes."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)


def spend_a_hash(password: str) -> None:
    """Cost what setting a password costs, without setting one (a sign-up that makes no account)."""
    generate_password_hash(password)


def change_password(user: User, password: str, *, now: datetime) -> None:
    """Set `password` (already checked), end every session and API token of `user` and kill its
    reset links; the caller commits."""
    user.set_password(password)
    user.password_changed_at = now
    end_every_session(user.id)
    MailToken.revoke(user.id, now, TokenPurpose.RESET)


@functools.cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("social").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not anybody's password")
