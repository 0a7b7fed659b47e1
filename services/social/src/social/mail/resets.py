"""Resetting a forgotten password by mail (the Flask Mega-Tutorial's own e-mail chapter).

Asking answers the same whether or not the address has an account; only one that has gets a
link. A link is good for :data:`RESET_LINK_LIFETIME`, works once, and dies when the password
changes or the address it went to is no longer the account's. Setting the password ends every
session and API token made with the old one. Using the link proves the mailbox is the user's, so
an address not yet confirmed is confirmed by it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from microblog_contracts import PasswordResetRequested, PasswordResetRequestedData
from pydantic import ValidationError
from sqlalchemy import select

from social.extensions import db
from social.mail.confirmations import LinkRefused
from social.mail.links import current_links
from social.mail.profiles import lock_profile, mail_profile, record_profile_changed
from social.mail.tokens import LinkProblem, MailToken, TokenPurpose
from social.models import User
from social.outbox.models import record_event
from social.passwords import change_password, password_problem

RESET_LINK_LIFETIME = timedelta(hours=1)


def request_reset(address: str, *, now: datetime) -> None:
    """Mail a reset link to `address` (normalized) if it is an account's; commits. Says nothing."""
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None:
        return
    _, token = MailToken.issue(user.id, TokenPurpose.RESET, user.email, lifetime=RESET_LINK_LIFETIME, now=now)
    try:
        data = PasswordResetRequestedData(profile=mail_profile(user), reset_url=current_links().reset_password(token),  # type: ignore[arg-type]
                                          expires_at=now + RESET_LINK_LIFETIME)
    except ValidationError:
        db.session.rollback()
        return  # an address no mail can reach
    record_event(PasswordResetRequested(time=now, data=data))
    db.session.commit()


def find_reset(token: str, *, now: datetime) -> tuple[MailToken, User]:
    """The link and its user if it works now; else :class:`LinkRefused`. Changes nothing."""
    row = MailToken.find(token, TokenPurpose.RESET)
    if row is None:
        raise LinkRefused(LinkProblem.UNKNOWN)
    user = db.session.get(User, row.user_id)
    assert user is not None  # the foreign key cascades deletes
    problem = row.problem(now)
    if problem is None and (row.address != user.email or _password_changed_since(user, row)):
        problem = LinkProblem.DEAD
    if problem is not None:
        raise LinkRefused(problem)
    return row, user


class PasswordRefused(ValueError):
    """The new password may not be chosen; the message says why."""


def reset_password(token: str, password: str, *, now: datetime) -> User:
    """Use the link to set `password` and commit; raises :class:`LinkRefused`, or
    :class:`PasswordRefused` (the link stays good)."""
    row, user = find_reset(token, now=now)
    problem = password_problem(password, nickname=user.nickname, email=user.email)
    if problem is not None:
        raise PasswordRefused(problem)
    if not MailToken.spend(row.id, now):
        db.session.refresh(row)
        problem = row.problem(now) or LinkProblem.USED
        db.session.rollback()
        raise LinkRefused(problem)
    change_password(user, password, now=now)  # every session and API token ends
    if not user.email_confirmed:
        lock_profile(user)
        user.email_confirmed_at = now
        user.email_bounced_at = user.email_bounce_reply = None
        record_profile_changed(user, at=now)
    db.session.commit()
    return user


def _password_changed_since(user: User, row: MailToken) -> bool:
    return user.password_changed_at is not None and user.password_changed_at >= row.created_at
