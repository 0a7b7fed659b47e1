"""Rate limits read from the settings, so each app built by the factory keeps its own.

Counted by Flask-Limiter in each web worker process. The password reset limits are shared by
the page and the API: asking through both does not double the allowance.
"""

from __future__ import annotations

import hashlib

from flask import request

from social.accounts import InvalidEmail, normalize_email
from social.extensions import limiter
from social.settings import current_settings


def login_rate_limit() -> str:
    """The limit on password checks: page logins and `POST /api/tokens`."""
    return current_settings().login_rate_limit


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
