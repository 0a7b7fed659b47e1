"""Confirming an address: the link mailed at sign-up, on a change of address or when asked again.

A link is good for :data:`CONFIRM_LINK_LIFETIME`, works once, and is dead once the address it
confirms is neither the user's address nor the one they are moving to, or once the address
changed after it was sent. Confirming lifts a bounce: the user says the address works again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from microblog_contracts import EmailConfirmationRequested, EmailConfirmationRequestedData
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from social.extensions import db
from social.mail.links import current_links
from social.mail.profiles import lock_profile, mail_profile, record_profile_changed
from social.mail.tokens import LinkProblem, MailToken, TokenPurpose
from social.models import User
from social.outbox.models import record_event

CONFIRM_LINK_LIFETIME = timedelta(days=7)

Purpose = Literal["signup", "change", "again"]


class LinkRefused(Exception):
    """A link that cannot be used; `problem` says why (and which HTTP status fits)."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class AddressTaken(Exception):
    """The address being confirmed became another account's meanwhile."""


@dataclass(frozen=True)
class ConfirmationLink:
    """A link that works, and whose address it confirms."""

    token: MailToken
    user: User

    @property
    def address(self) -> str:
        return self.token.address


def send_confirmation(user: User, address: str, purpose: Purpose, *, now: datetime, mail: bool = True) -> None:
    """Add a new link for `address` and its `email.confirmation_requested` to the session.

    With `mail=False` the link is made but not sent, so that asking about an address that is
    another account's costs and answers the same as asking about a free one.
    """
    _, token = MailToken.issue(user.id, TokenPurpose.CONFIRM, address, lifetime=CONFIRM_LINK_LIFETIME, now=now)
    if not mail:
        return
    try:
        profile = mail_profile(user)
        data = EmailConfirmationRequestedData(
            profile=profile, address=address, confirm_url=current_links().confirm(token),  # type: ignore[arg-type]
            expires_at=now + CONFIRM_LINK_LIFETIME, purpose=purpose,
        )
    except ValidationError as exc:
        raise ValueError(f"cannot mail a confirmation link to user {user.id}: {exc.errors()[0]['msg']}") from None
    record_event(EmailConfirmationRequested(time=now, data=data))


def find_confirmation(token: str, *, now: datetime) -> ConfirmationLink:
    """The link `token` stands for, if it works now; else :class:`LinkRefused`. Changes nothing."""
    row = MailToken.find(token, TokenPurpose.CONFIRM)
    if row is None:
        raise LinkRefused(LinkProblem.UNKNOWN)
    user = db.session.get(User, row.user_id)
    assert user is not None  # the foreign key cascades deletes
    problem = row.problem(now)
    if problem is None and row.address not in (user.email, user.pending_email):
        problem = LinkProblem.DEAD
    if problem is not None:
        raise LinkRefused(problem)
    return ConfirmationLink(row, user)


def confirm(token: str, *, now: datetime) -> User:
    """Use the link and commit: the address is confirmed (moved to, for a change), the bounce
    lifted, `user.profile_changed` recorded. Raises :class:`LinkRefused` or :class:`AddressTaken`."""
    link = find_confirmation(token, now=now)
    user = link.user
    lock_profile(user)
    if not MailToken.spend(link.token.id, now):  # another request used or killed it meanwhile
        db.session.refresh(link.token)
        problem = link.token.problem(now) or LinkProblem.USED
        db.session.rollback()
        raise LinkRefused(problem)
    if link.address == user.pending_email:
        user.email, user.pending_email = link.address, None
        MailToken.revoke(user.id, now)
    elif link.address != user.email:  # the address changed while we waited for the lock
        db.session.rollback()
        raise LinkRefused(LinkProblem.DEAD)
    _mark_confirmed(user, now)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AddressTaken(link.address) from None
    return user


def confirm_without_mail(user: User, *, now: datetime) -> None:
    """An operator's confirmation of `user`'s current address (`social users confirm`); commits."""
    lock_profile(user)
    _mark_confirmed(user, now)
    db.session.commit()


def _mark_confirmed(user: User, now: datetime) -> None:
    user.email_confirmed_at = now
    user.email_bounced_at = user.email_bounce_reply = None
    record_profile_changed(user, at=now)
