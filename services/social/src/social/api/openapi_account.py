"""The account endpoints in the OpenAPI document: your profile, address, preferences, and the
links mailed to you."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from social.api.account_schemas import (
    AcceptedOut,
    AccountDeletion,
    EmailChange,
    EmailConfirmation,
    MeOut,
    NewPassword,
    PasswordChange,
    PasswordResetRequest,
)
from social.api.openapi_parts import BEARER, ERRORS, json_response, operation
from social.mail.preferences import Preferences, PreferencesChange

ACCOUNT_MODELS: list[type[BaseModel]] = [
    MeOut, EmailChange, EmailConfirmation, PasswordResetRequest, NewPassword, AcceptedOut, Preferences,
    PreferencesChange, PasswordChange, AccountDeletion,
]

_TOKEN_PARAM = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "The token of the link mailed to you (the last part of `/reset_password/<token>`).",
    "schema": {"type": "string", "minLength": 1},
}
_LINK_ERRORS = {
    404: "No link has that token.",
    410: ERRORS[410],
    422: ERRORS[422],
    400: ERRORS[400],
    413: ERRORS[413],
}


_PASSWORD_CHECKED = {
    **{code: ERRORS[code] for code in (400, 401, 413, 422)},
    403: "The password is wrong (`wrong_password`, in `fields.password`).",
    429: "Too many password checks from this client, or failed ones for this account; wait and retry "
         "(see `Retry-After`).",
}


def account_paths() -> dict[str, Any]:
    return {
        "/api/users/me": {
            "get": operation(
                "getMe", "Your own profile", security=BEARER,
                description="With your address, whether it is confirmed (no notification is mailed "
                "until it is), an address change waiting for its confirmation, whether mail to it "
                "bounced, and your mail preferences.",
                ok={200: json_response("Your profile.", MeOut)}, errors=(401,),
            ),
            "delete": operation(
                "deleteMe", "Delete your account", security=BEARER, request=AccountDeletion,
                description="Needs your password. Your profile, follows, sessions, API tokens, mail "
                "links and mail history go at once; the notifier is told to forget your address "
                "(`user.deleted`), and the events about you that social keeps lose their data.",
                ok={204: {"description": "The account is deleted."}},
                errors=_PASSWORD_CHECKED,
            ),
        },
        "/api/users/me/password": {
            "put": operation(
                "changePassword", "Change your password", security=BEARER, request=PasswordChange,
                description="Needs your password now. The new one may not be one of the 20,000 most "
                "common passwords, nor your nickname or address (422 naming `new_password`). Every "
                "session and every API token, this one too, ends: get a new token.",
                ok={204: {"description": "The password is changed."}},
                errors=_PASSWORD_CHECKED,
            )
        },
        "/api/users/me/sessions/revoke": {
            "post": operation(
                "revokeSessions", "Log out everywhere", security=BEARER,
                description="Ends every login session and revokes every API token, this one too, "
                "without changing the password.",
                ok={204: {"description": "Every session and token has ended."}},
                errors=(401,),
            )
        },
        "/api/users/me/email": {
            "put": operation(
                "changeEmail", "Change your address", security=BEARER, request=EmailChange,
                description="Needs your password. A confirmation link goes to the new address, and "
                "your mail moves there once it is used; until then it keeps going to your confirmed "
                "address, which is told of the change. An address never confirmed is replaced at once. "
                "The answer never says whether the new address is another account's.",
                ok={202: json_response("A link is on its way to the new address (`pending_email`).", MeOut),
                    200: json_response("That is your address already; a change waiting was dropped.", MeOut)},
                errors={**{code: ERRORS[code] for code in (400, 401, 403, 413, 422)},
                        429: "Too many password attempts or confirmation links; wait and retry."},
            )
        },
        "/api/users/me/email-confirmations": {
            "post": operation(
                "requestEmailConfirmation", "Send a new confirmation link", security=BEARER,
                description="For the address waiting for confirmation: a new one, yours while it is "
                "unconfirmed, or yours again after mail to it bounced. Rate limited.",
                ok={202: json_response("A link is on its way.", AcceptedOut)},
                errors={401: ERRORS[401], 409: "Your address is confirmed and mail to it works (`already_confirmed`).",
                        429: ERRORS[429]},
            )
        },
        "/api/users/me/preferences": {
            "get": operation(
                "getPreferences", "What you are mailed about, and when", security=BEARER,
                description="`follow_notices` is your choice, or the default (`follow_notices_default`) "
                "while you have not chosen (`follow_notices_chosen` false). The digest hour and quiet "
                "hours are in your `time_zone`.",
                ok={200: json_response("Your preferences.", Preferences)}, errors=(401,),
            ),
            "put": operation(
                "changePreferences", "Change what you are mailed about, and when", security=BEARER,
                request=PreferencesChange,
                description="Send only the fields to change. `follow_notices: null` goes back to the "
                "default, `quiet_hours: null` removes the quiet hours; quiet hours whose `end` is "
                "before their `start` span midnight, and an `end` equal to the `start` is refused. A "
                "change applies to every mail not yet sent, also one already queued, waiting to be "
                "gathered or being retried.",
                ok={200: json_response("All your preferences, after the change.", Preferences)},
                errors=(400, 401, 413, 422),
            ),
        },
        "/api/email-confirmations": {
            "post": operation(
                "confirmEmail", "Confirm an address with the token mailed to it", security=[],
                request=EmailConfirmation,
                description="No login needed: the token is the proof. A link works once, for 7 days, "
                "and only while its address is still yours (or the one you are moving to).",
                ok={204: {"description": "The address is confirmed."}},
                errors={**_LINK_ERRORS, 409: "The address became another account's meanwhile (`email_taken`)."},
            )
        },
        "/api/password-resets": {
            "post": operation(
                "requestPasswordReset", "Ask for a password reset link", security=[],
                request=PasswordResetRequest,
                description="The same answer whether or not the address has an account; only one "
                "that has gets a link, good for one hour. Rate limited per client and per address.",
                ok={202: json_response("If the address has an account, a link is on its way.", AcceptedOut)},
                errors={**{code: ERRORS[code] for code in (400, 413, 422)},
                        429: ERRORS[429]},
            )
        },
        "/api/password-resets/{token}": {
            "post": operation(
                "resetPassword", "Set a new password with the token of a reset link", security=[],
                params=[_TOKEN_PARAM], request=NewPassword,
                description="The link works once, within an hour, and not after the password changed "
                "otherwise. Every API token and session of the account stops working.",
                ok={204: {"description": "The password is set."}},
                errors=_LINK_ERRORS,
            )
        },
    }
