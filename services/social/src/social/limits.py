"""Rate limits read from the settings, so each app built by the factory keeps its own."""

from __future__ import annotations

from flask import current_app


def login_rate_limit() -> str:
    """The limit on password checks: page logins and `POST /api/tokens`."""
    return str(current_app.extensions["social_settings"].login_rate_limit)
