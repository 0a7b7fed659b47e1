"""Changing the address, and asking for a new confirmation link.

While a confirmed address is being changed, mail keeps going to it: the new one waits in
`pending_email` until its link is used, and the old one is told of the change. An address never
confirmed has nothing to keep, and may be a stranger's: it is replaced at once and told nothing.
Neither path says whether the new address is another account's: one that is gets no mail, and
the answer is the same.
"""

from __future__ import annotations

import enum
import math
from datetime import datetime, timedelta

from limits import parse_many
from microblog_contracts import EmailChangeRequested, EmailChangeRequestedData
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from social.extensions import db
from social.mail.confirmations import send_confirmation
from social.mail.profiles import lock_profile, mail_profile, record_profile_changed
from social.mail.tokens import MailToken, TokenPurpose
from social.models import User
from social.outbox.models import record_event
from social.settings import current_settings


class AlreadyConfirmed(Exception):
    """The address is confirmed, mail to it works and no change waits: there is nothing to confirm."""


class TooManyLinks(Exception):
    """More confirmation links than `CONFIRMATION_RATE_LIMIT` allows; try after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class AddressChange(enum.Enum):
    UNCHANGED = "unchanged"  # it was the address already (a change waiting for it is dropped)
    REQUESTED = "requested"  # a link is on its way to the new address


def ask_again(user: User, *, now: datetime) -> None:
    """A new link for the address waiting for confirmation; commits. Allowed for a confirmed
    address whose mail bounced: confirming it again says it works now."""
    if user.pending_email is None and user.email_confirmed and not user.email_bounced:
        raise AlreadyConfirmed(user.email)
    _check_rate(user.id, now)
    address = user.pending_email or user.email
    send_confirmation(user, address, "again", now=now, mail=not _taken_by_another(address, user.id))
    db.session.commit()


def change_address(user: User, address: str, *, now: datetime) -> AddressChange:
    """Start moving `user`'s mail to `address` (normalized); commits. The caller has checked
    the password."""
    if address == user.email:
        if user.pending_email is not None:
            user.pending_email = None
            MailToken.revoke(user.id, now, TokenPurpose.CONFIRM)
            db.session.commit()
        return AddressChange.UNCHANGED
    _check_rate(user.id, now)
    taken = _taken_by_another(address, user.id)
    if user.email_confirmed or taken:
        user.pending_email = address
        MailToken.revoke(user.id, now, TokenPurpose.CONFIRM)
        if user.email_confirmed:
            _tell_the_old_address(user, address, now)
        send_confirmation(user, address, "change", now=now, mail=not taken)
        db.session.commit()
        return AddressChange.REQUESTED
    lock_profile(user)
    user.email, user.pending_email = address, None
    user.email_bounced_at = user.email_bounce_reply = None
    MailToken.revoke(user.id, now)
    record_profile_changed(user, at=now)
    send_confirmation(user, address, "change", now=now)
    try:
        db.session.commit()
    except IntegrityError:  # another account took it since we looked: as if it had been taken then
        db.session.rollback()
        return change_address(user, address, now=now)
    return AddressChange.REQUESTED


def _tell_the_old_address(user: User, address: str, now: datetime) -> None:
    try:
        data = EmailChangeRequestedData(profile=mail_profile(user), old_address=user.email, new_address=address,
                                        requested_at=now)
    except ValidationError:
        return  # an old address no mail can reach cannot be told anything
    record_event(EmailChangeRequested(time=now, data=data))


def _taken_by_another(address: str, user_id: int) -> bool:
    return db.session.scalar(select(User.id).where(User.email == address, User.id != user_id)) is not None


def _check_rate(user_id: int, now: datetime) -> None:
    """Raise :class:`TooManyLinks` when the user has had as many links as each window allows."""
    for limit in parse_many(current_settings().confirmation_rate_limit):
        window = timedelta(seconds=limit.get_expiry())
        recent = db.session.scalars(
            select(MailToken.created_at)
            .where(MailToken.user_id == user_id, MailToken.purpose == TokenPurpose.CONFIRM.value,
                   MailToken.created_at > now - window)
            .order_by(MailToken.created_at.desc())
            .limit(limit.amount)
        ).all()
        if len(recent) >= limit.amount:
            raise TooManyLinks(max(1, math.ceil((recent[-1] + window - now).total_seconds())))
