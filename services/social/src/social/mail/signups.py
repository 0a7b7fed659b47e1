"""A sign-up with an address that has an account: no answer says so, its owner is told by mail.

As Mastodon does: the sign-up gets the same answer as any other, and the address's owner gets an
"already registered" mail (`email.signup_attempted`) with a password reset link, in case it was
them and they forgot. At most `PASSWORD_RESET_ADDRESS_RATE_LIMIT` of these and reset links go to
one account, so nobody can flood an inbox by signing up with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from limits import parse_many
from microblog_contracts import EmailSignupAttempted, EmailSignupAttemptedData
from pydantic import ValidationError
from sqlalchemy import func, select

from social.extensions import db
from social.mail.links import current_links
from social.mail.profiles import mail_profile
from social.mail.resets import RESET_LINK_LIFETIME
from social.mail.tokens import MailToken, TokenPurpose
from social.models import User
from social.outbox.models import record_event
from social.settings import current_settings

log = structlog.get_logger("social.mail")


def tell_the_owner(owner: User, *, now: datetime) -> None:
    """Add the "someone signed up with your address" mail for `owner`, with a reset link, to the
    session (the caller commits); nothing when the account has had its share of links lately."""
    if _links_exhausted(owner.id, now):
        log.info("signup_attempt_not_mailed", user=owner.id, reason="rate_limited")
        return
    _, token = MailToken.issue(owner.id, TokenPurpose.RESET, owner.email, lifetime=RESET_LINK_LIFETIME, now=now)
    try:
        data = EmailSignupAttemptedData(profile=mail_profile(owner), attempted_at=now,
                                        reset_url=current_links().reset_password(token),  # type: ignore[arg-type]
                                        expires_at=now + RESET_LINK_LIFETIME)
    except ValidationError:
        return  # an address no mail can reach
    record_event(EmailSignupAttempted(time=now, data=data))


def _links_exhausted(user_id: int, now: datetime) -> bool:
    for limit in parse_many(current_settings().password_reset_address_rate_limit):
        window = timedelta(seconds=limit.get_expiry())
        recent = db.session.scalar(
            select(func.count()).select_from(MailToken).where(
                MailToken.user_id == user_id, MailToken.purpose == TokenPurpose.RESET.value,
                MailToken.created_at > now - window))
        if (recent or 0) >= limit.amount:
            return True
    return False
