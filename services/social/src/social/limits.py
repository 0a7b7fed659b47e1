"""Rate limits read from the settings, so each app built by the factory keeps its own."""

from __future__ import annotations

from social.settings import current_settings


def login_rate_limit() -> str:
    """The limit on password checks: page logins and `POST /api/tokens`."""
    return current_settings().login_rate_limit
