"""Using the links mailed to people, without the pages: confirming an address, resetting a
password. Asking for a reset answers 202 whether or not the address has an account."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from social.api import bp
from social.api.account_schemas import AcceptedOut, EmailConfirmation, NewPassword, PasswordResetRequest
from social.api.errors import ApiError
from social.api.parsing import json_body
from social.dbtypes import utcnow
from social.limits import reset_per_address, reset_per_client
from social.mail import confirmations, resets
from social.mail.confirmations import LinkRefused

RESET_REQUESTED = ("If that address belongs to an account, a link to reset its password is on its way; "
                   "it works for an hour.")


@bp.post("/email-confirmations")
def confirm_email() -> ResponseReturnValue:
    """204 once the address is confirmed; 404 for an unknown token, 410 for a used, expired or
    dead one, 409 when the address became another account's meanwhile."""
    body = json_body(EmailConfirmation)
    try:
        confirmations.confirm(body.token, now=utcnow())
    except LinkRefused as exc:
        raise link_error(exc) from None
    except confirmations.AddressTaken:
        raise ApiError(409, "email_taken", "That address now belongs to another account.") from None
    return "", 204


@bp.post("/password-resets")
@reset_per_client
@reset_per_address
def request_password_reset() -> ResponseReturnValue:
    body = json_body(PasswordResetRequest)
    resets.request_reset(body.email, now=utcnow())
    return AcceptedOut(message=RESET_REQUESTED).model_dump(), 202


@bp.post("/password-resets/<token>")
def reset_password(token: str) -> ResponseReturnValue:
    """204 once the password is set (every API token of the account stops working)."""
    body = json_body(NewPassword)
    try:
        resets.reset_password(token, body.password, now=utcnow())
    except LinkRefused as exc:
        raise link_error(exc) from None
    except resets.PasswordRefused as exc:
        raise ApiError(422, "invalid_fields", "Some fields are invalid.", fields={"password": str(exc)}) from None
    return "", 204


def link_error(exc: LinkRefused) -> ApiError:
    code = "not_found" if exc.problem.status == 404 else f"link_{exc.problem.value}"
    return ApiError(exc.problem.status, code, exc.problem.words)
