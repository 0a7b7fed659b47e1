"""One-click unsubscribe links (RFC 8058): one per user and kind of mail, never expiring.

A token is `<user id>.<preference>.<signature>`, the signature an HMAC-SHA256 of the three with
the user's own salt, under a key derived from SECRET_KEY (:func:`social.mail.links.unsubscribe_key`).
Nothing is stored: the link is the same in every mail, so a user can unsubscribe from an old one.
It only ever turns one kind of mail off, so a leaked link costs little; a new salt for a user
revokes theirs, a new SECRET_KEY everyone's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol

from microblog_contracts import Preference

from social.extensions import db
from social.models import User

#: Far longer than any token we make: a longer path is refused before any work is done.
MAX_TOKEN_LENGTH = 120
_PREFERENCES = {preference.value: preference for preference in Preference}


class _Salted(Protocol):
    id: int
    unsubscribe_salt: str


def unsubscribe_token(user: _Salted, preference: Preference, key: bytes) -> str:
    """The token of `user`'s link that turns `preference` off."""
    return f"{user.id}.{preference.value}.{_signature(key, user.id, preference, user.unsubscribe_salt)}"


def read_unsubscribe_token(token: str, key: bytes) -> tuple[User, Preference] | None:
    """The user and preference `token` turns off, or None for a token we did not make.

    The signature is compared in constant time; an unknown user still costs a signature.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    number, preference_name, signature = [*token.split(".", 2), "", ""][:3]
    preference = _PREFERENCES.get(preference_name)
    if not number.isascii() or not number.isdigit() or len(number) > 18 or preference is None:
        return None
    user = db.session.get(User, int(number))
    salt = user.unsubscribe_salt if user is not None else "no such user"
    expected = _signature(key, int(number), preference, salt)
    if not hmac.compare_digest(expected.encode(), signature.encode()) or user is None:
        return None
    return user, preference


def _signature(key: bytes, user_id: int, preference: Preference, salt: str) -> str:
    message = f"{user_id}.{preference.value}.{salt}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
