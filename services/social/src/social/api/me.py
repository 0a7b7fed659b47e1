"""`/api/users/me`: your own profile, address, password, sessions and mail preferences, and
deleting your account."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from social import deletion
from social.api import bp
from social.api.account_schemas import AcceptedOut, AccountDeletion, EmailChange, MeOut, PasswordChange
from social.api.auth import check_own_password, token_user
from social.api.errors import ApiError
from social.api.parsing import json_body
from social.api.users import public_fields
from social.dbtypes import utcnow
from social.extensions import db
from social.limits import login_per_account, login_per_client
from social.mail import addresses
from social.mail.preferences import PreferencesChange, change_preferences, preferences_of
from social.models import User
from social.passwords import change_password, password_problem
from social.sessions import end_every_session


@bp.get("/users/me")
def get_me() -> ResponseReturnValue:
    return me_json(token_user())


@bp.delete("/users/me")
@login_per_client  # it checks the password
@login_per_account
def delete_me() -> ResponseReturnValue:
    """Delete your account, with your password: 204, and every token and session ends."""
    me = token_user()
    check_own_password(me, json_body(AccountDeletion).password)
    deletion.delete_account(me, now=utcnow())
    return "", 204


@bp.put("/users/me/password")
@login_per_client  # it checks the password
@login_per_account
def put_password() -> ResponseReturnValue:
    """Change your password: 204, and every session and API token (this one too) ends."""
    me = token_user()
    body = json_body(PasswordChange)
    check_own_password(me, body.password)
    problem = password_problem(body.new_password, nickname=me.nickname, email=me.email)
    if problem is not None:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", fields={"new_password": problem})
    change_password(me, body.new_password, now=utcnow())
    db.session.commit()
    return "", 204


@bp.post("/users/me/sessions/revoke")
def revoke_sessions() -> ResponseReturnValue:
    """Log out everywhere: 204, and every session and API token (this one too) ends."""
    me = token_user()
    end_every_session(me.id)
    db.session.commit()
    return "", 204


@bp.put("/users/me/email")
@login_per_client  # it checks the password
@login_per_account
def change_email() -> ResponseReturnValue:
    """202 when a link went to the new address (mail moves there once it is used); 200 when the
    address is yours already. It never says whether the address is another account's."""
    me = token_user()
    body = json_body(EmailChange)
    check_own_password(me, body.password)
    try:
        change = addresses.change_address(me, body.email, now=utcnow())
    except addresses.TooManyLinks as exc:
        raise _too_many(exc) from None
    return me_json(me), 200 if change is addresses.AddressChange.UNCHANGED else 202


@bp.post("/users/me/email-confirmations")
def ask_for_confirmation() -> ResponseReturnValue:
    """A new confirmation link for the address waiting for one (the pending one, or yours while
    unconfirmed or bounced)."""
    me = token_user()
    try:
        addresses.ask_again(me, now=utcnow())
    except addresses.AlreadyConfirmed:
        raise ApiError(409, "already_confirmed", "Your address is confirmed and mail to it works.") from None
    except addresses.TooManyLinks as exc:
        raise _too_many(exc) from None
    sent_to = me.pending_email or me.email
    return AcceptedOut(message=f"A new confirmation link is on its way to {sent_to}.").model_dump(), 202


@bp.get("/users/me/preferences")
def get_preferences() -> ResponseReturnValue:
    return preferences_of(token_user()).model_dump(mode="json")


@bp.put("/users/me/preferences")
def put_preferences() -> ResponseReturnValue:
    """Change the fields sent, keep the rest; answer with all of them."""
    me = token_user()
    change_preferences(me, json_body(PreferencesChange), now=utcnow())
    return preferences_of(me).model_dump(mode="json")


def me_json(user: User) -> dict[str, object]:
    out = MeOut.model_validate({
        **public_fields(user, own=True),
        "show_last_seen": user.show_last_seen,
        "email": user.email,
        "email_confirmed": user.email_confirmed,
        "email_confirmed_at": user.email_confirmed_at,
        "pending_email": user.pending_email,
        "email_bounced": user.email_bounced,
        "locale": user.locale,
        "time_zone": user.time_zone,
        "preferences": preferences_of(user),
    })
    return out.model_dump(mode="json")


def _too_many(exc: addresses.TooManyLinks) -> ApiError:
    return ApiError(429, "too_many_requests", "You have had several links already; try again later.",
                    headers={"Retry-After": str(exc.retry_after)})
