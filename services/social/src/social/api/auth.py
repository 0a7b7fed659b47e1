"""Who is calling: HTTP Basic for `POST /api/tokens`, bearer tokens everywhere else."""

from __future__ import annotations

from flask import request

from social import users
from social.api.errors import ApiError
from social.limits import refuse_password
from social.models import ApiToken, User
from social.passwords import verify_password

BEARER_CHALLENGE = 'Bearer realm="microblog"'
BASIC_CHALLENGE = 'Basic realm="microblog"'


def basic_auth_user() -> User:
    """The user named by valid HTTP Basic credentials, else a 401 asking for them."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or not auth.password:
        raise _unauthorized("Log in with HTTP Basic: your nickname and password.", BASIC_CHALLENGE)
    user = users.find_by_nickname(auth.username)
    if not verify_password(user, auth.password):  # as long for an unknown nickname as for a known one
        refuse_password()
        raise _unauthorized("Wrong nickname or password.", BASIC_CHALLENGE)
    assert user is not None
    return user


def check_own_password(user: User, password: str) -> None:
    """A 403 naming the field unless `password` is `user`'s (it counts against the account's budget)."""
    if not user.check_password(password):
        refuse_password()
        raise ApiError(403, "wrong_password", "That is not your password.", fields={"password": "wrong password"})


def bearer_token(*, required: bool = True) -> ApiToken | None:
    """The valid token the request carries; None if it carries none and none is required.

    A token that is sent but unknown or expired is always a 401, also where authentication
    is optional, so a client learns its token is stale instead of silently seeing less.
    """
    header = request.headers.get("Authorization")
    if header is None and not required:
        return None
    scheme, _, credentials = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthorized(
            "Send a bearer token: `Authorization: Bearer <token>`.", BEARER_CHALLENGE
        )
    found = ApiToken.for_request(credentials.strip())
    if found is None:
        raise _unauthorized("This token is unknown, revoked or expired.", BEARER_CHALLENGE)
    return found


def token_user() -> User:
    """The owner of the request's required bearer token."""
    token = bearer_token(required=True)
    assert token is not None
    return token.user


def _unauthorized(message: str, challenge: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})
