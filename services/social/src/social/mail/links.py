"""The absolute links social puts in mail and events, all on `SOCIAL_BASE_URL`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app

from social.settings import current_settings


@dataclass(frozen=True)
class Links:
    base_url: str
    #: Signs unsubscribe links (see :mod:`social.mail.unsubscribe`); derived from SECRET_KEY.
    unsubscribe_key: bytes

    def confirm(self, token: str) -> str:
        return f"{self.base_url}/confirm/{token}"

    def reset_password(self, token: str) -> str:
        return f"{self.base_url}/reset_password/{token}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base_url}/unsubscribe/{token}"

    def profile(self, nickname: str) -> str:
        return f"{self.base_url}/user/{quote(nickname, safe='')}"


def unsubscribe_key(secret_key: str) -> bytes:
    """A key of its own for unsubscribe links, so they share nothing with sessions' signatures."""
    return hmac.new(secret_key.encode(), b"microblog unsubscribe links v1", hashlib.sha256).digest()


def current_links() -> Links:
    """The links of the app handling the current request (or whose app context is pushed)."""
    return Links(current_settings().base_url, unsubscribe_key(str(current_app.secret_key)))
