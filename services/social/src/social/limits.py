"""Rate limits read from the settings, so each app built by the factory keeps its own.

Counted by Flask-Limiter in storage every web worker shares (:func:`storage_config`): Redis when
`RATELIMIT_STORAGE_URL` names it, the project's database otherwise. A page and the API endpoint
doing the same thing share one budget: asking through both does not double the allowance.

Password checks are limited per client (all of them) and per account (the failed ones, from any
client: `g.password_refused`), so neither many accounts from one client nor one account from
many clients can be guessed at speed.
"""

from __future__ import annotations

import hashlib
import unicodedata

from flask import Response, g, request
from flask_login import current_user
from sqlalchemy.engine import Engine

from social.accounts import InvalidEmail, nickname_key, normalize_email
from social.extensions import db, limiter
from social.limitstore import rate_limits, storage_uri
from social.models import ApiToken, User
from social.settings import SocialSettings, current_settings

rate_limits.to_metadata(db.metadata)  # so that migrations know the table


def storage_config(settings: SocialSettings, engine: Engine) -> dict[str, object]:
    """The Flask config that points Flask-Limiter at the shared storage. Should Redis be away, each
    process counts in memory meanwhile rather than failing every limited request."""
    if settings.ratelimit_storage_url is not None:
        return {"RATELIMIT_STORAGE_URI": settings.ratelimit_storage_url.get_secret_value(),
                "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True}
    return {"RATELIMIT_STORAGE_URI": storage_uri(engine)}


def _login_client_limit() -> str:
    return current_settings().login_rate_limit


def _login_account_limit() -> str:
    return current_settings().login_account_rate_limit


def _signup_limit() -> str:
    return current_settings().signup_rate_limit


def _follow_limit() -> str:
    return current_settings().follow_rate_limit


def refuse_password() -> None:
    """Note that the request's password was wrong: it counts against the account's budget."""
    g.password_refused = True


def _password_refused(_response: Response) -> bool:
    return bool(g.get("password_refused"))


def account_key() -> str:
    """The account a password check is about, hashed: the logged-in user or the bearer token's,
    the nickname of a login form, or HTTP Basic's user name. Every name counts alike, an
    account's or not."""
    user = _request_user()
    if user is not None:
        name = user.nickname
    elif request.authorization is not None and request.authorization.type == "basic":
        name = request.authorization.username or ""
    else:
        name = request.form.get("nickname", "") if request.form else ""
    key = nickname_key(unicodedata.normalize("NFKC", name.strip()))
    return "account:" + hashlib.sha256(key.encode()).hexdigest()


def _user_key() -> str:
    user = _request_user()
    return f"user:{user.id}" if user is not None else f"client:{request.remote_addr}"


def _request_user() -> User | None:
    """Who the request is from: the logged-in user, or the owner of a valid bearer token."""
    if current_user.is_authenticated:
        me: User = current_user._get_current_object()
        return me
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        token = ApiToken.for_request(credentials.strip())
        return token.user if token is not None else None
    return None


def _reset_client_limit() -> str:
    return current_settings().password_reset_rate_limit


def _reset_address_limit() -> str:
    return current_settings().password_reset_address_rate_limit


def asked_address_key() -> str:
    """The address a reset request asks about (form or JSON body), hashed: the per-address key.
    Every address counts alike, an account's or not, so the limit says nothing about accounts."""
    raw = request.form.get("email") if request.form else None
    if raw is None:
        body = request.get_json(silent=True)
        raw = body.get("email") if isinstance(body, dict) else None
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        text = normalize_email(text)
    except InvalidEmail:
        text = text.lower()  # refused by the view anyway; still counted, so junk cannot dodge it
    return "address:" + hashlib.sha256(text.encode()).hexdigest()


#: Password reset requests per client address, page and API together.
reset_per_client = limiter.shared_limit(_reset_client_limit, scope="password-reset-client", methods=["POST"])
#: Password reset requests per address asked about, page and API together.
reset_per_address = limiter.shared_limit(
    _reset_address_limit, scope="password-reset-address", key_func=asked_address_key, methods=["POST"]
)

#: Password checks per client: logins (page and `POST /api/tokens`), and every form or API call
#: that asks for the password again.
login_per_client = limiter.shared_limit(_login_client_limit, scope="login-client", methods=["POST", "PUT", "DELETE"])
#: Failed password checks per account, wherever they come from.
login_per_account = limiter.shared_limit(
    _login_account_limit, scope="login-account", key_func=account_key, methods=["POST", "PUT", "DELETE"],
    deduct_when=_password_refused,
)
#: Sign-ups per client, page and API together.
signup_per_client = limiter.shared_limit(_signup_limit, scope="signup", methods=["POST"])
#: Follows and unfollows per user, page and API together.
#: Posts, per user; a request with no valid credentials is refused (401) before it could cost anything.
posts_per_user = limiter.shared_limit(
    lambda: current_settings().post_rate_limit, scope="post", key_func=_user_key, methods=["POST"],
    exempt_when=lambda: _request_user() is None,
)
follows_per_user = limiter.shared_limit(
    _follow_limit, scope="follow", key_func=_user_key, methods=["POST", "PUT", "DELETE"]
)
