"""Registering and finding users: what the sign-up page and `POST /api/users` share."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from social.accounts import DEFAULT_LOCALE, is_valid_nickname, lookup_keys
from social.dbtypes import utcnow
from social.extensions import db
from social.mail import signups
from social.mail.confirmations import send_confirmation
from social.mail.profiles import record_profile_changed
from social.models import User
from social.nicknames import nickname_skeleton
from social.passwords import spend_a_hash
from social.translate import _


class RegistrationError(ValueError):
    """A sign-up that cannot go ahead; `field` names the input at fault."""

    field = ""


class NicknameTaken(RegistrationError):
    field = "nickname"


def signed_up_words(nickname: str, email: str) -> str:
    """What a sign-up is told, whether or not the address had an account already."""
    return _("Welcome, %(nickname)s! We sent a mail to %(address)s: use its link to confirm your address, as we "
             "mail no notifications until then. You can log in now.", nickname=nickname, address=email)


def find_by_nickname(nickname: str) -> User | None:
    """The user with this nickname, whatever its case; None for an unknown or impossible one."""
    if not is_valid_nickname(nickname):
        # Spares the database text it cannot store (PostgreSQL refuses NUL bytes).
        return None
    keys = lookup_keys(nickname)
    found = {user.nickname_key: user for user in db.session.scalars(select(User).where(User.nickname_key.in_(keys)))}
    return next((found[key] for key in keys if key in found), None)


def nickname_taken(nickname: str) -> bool:
    """Whether `nickname` is taken, or looks like one that is (see :mod:`social.nicknames`)."""
    if find_by_nickname(nickname) is not None:
        return True
    return db.session.scalar(select(User.id).where(User.nickname_skeleton == nickname_skeleton(nickname))) is not None


def register(
    *,
    nickname: str,
    email: str,
    password: str,
    about_me: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> User | None:
    """Create and commit a user from already normalized fields, with their first profile
    (`user.profile_changed`, version 1) and the link that confirms their address; or, when the
    address has an account, tell its owner (:mod:`social.mail.signups`) and return None, having
    spent as long as a sign-up does.

    Raises :class:`NicknameTaken`; the unique constraints decide when two sign-ups race, so the
    check-then-insert cannot let a duplicate through.
    """
    if nickname_taken(nickname):
        raise NicknameTaken(nickname)
    owner = db.session.scalar(select(User).where(User.email == email))
    if owner is not None:
        _tell_the_owner(owner, password)
        return None
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
        owner = db.session.scalar(select(User).where(User.email == email))
        if owner is None:
            raise
        _tell_the_owner(owner, password)
        return None
    return user


def _tell_the_owner(owner: User, password: str) -> None:
    spend_a_hash(password)  # a new account costs one: so does this
    signups.tell_the_owner(owner, now=utcnow())
    db.session.commit()
