"""Registering and finding users: what the sign-up page and `POST /api/users` share."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from social.accounts import DEFAULT_LOCALE, is_valid_nickname, nickname_key
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.confirmations import send_confirmation
from social.mail.profiles import record_profile_changed
from social.models import User


class RegistrationError(ValueError):
    """A sign-up that cannot go ahead; `field` names the input at fault."""

    field = ""


class NicknameTaken(RegistrationError):
    field = "nickname"


class EmailTaken(RegistrationError):
    field = "email"


def find_by_nickname(nickname: str) -> User | None:
    """The user with this nickname, whatever its case; None for an unknown or impossible one."""
    if not is_valid_nickname(nickname):
        # Spares the database text it cannot store (PostgreSQL refuses NUL bytes).
        return None
    return db.session.scalar(select(User).where(User.nickname_key == nickname_key(nickname)))


def nickname_taken(nickname: str) -> bool:
    return find_by_nickname(nickname) is not None


def email_taken(email: str) -> bool:
    """Whether a normalized address (see :func:`social.accounts.normalize_email`) is in use."""
    return db.session.scalar(select(User.id).where(User.email == email)) is not None


def register(
    *,
    nickname: str,
    email: str,
    password: str,
    about_me: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> User:
    """Create and commit a user from already normalized fields, with their first profile
    (`user.profile_changed`, version 1) and the link that confirms their address.

    Raises :class:`NicknameTaken` or :class:`EmailTaken`; the unique constraints
    decide when two sign-ups race, so the check-then-insert cannot let a duplicate through.
    """
    if nickname_taken(nickname):
        raise NicknameTaken(nickname)
    if email_taken(email):
        raise EmailTaken(email)
    user = User(nickname=nickname, email=email, about_me=about_me or None, locale=locale, profile_version=1)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()  # the id the events name; a duplicate may already fail here
        now = utcnow()
        record_profile_changed(user, at=now)
        send_confirmation(user, email, "signup", now=now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if nickname_taken(nickname):
            raise NicknameTaken(nickname) from None
        raise EmailTaken(email) from None
    return user
