"""The pages of a user's address, password and mail: confirming an address, resetting a
password, notification settings, one-click unsubscribe. Their URLs are the ones mailed, so the
blueprint has no prefix."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from social.account import address, notifications, profile, reset, security, unsubscribe  # noqa: E402,F401  (register views)
