"""Security headers on every response, and the client's address behind trusted proxies.

Pages load nothing inline and nothing from elsewhere: the Content-Security-Policy allows scripts,
styles and the script's requests to this site only, no plugins, no framing by anyone (`frame-ancestors 'none'`, and
`X-Frame-Options` for older browsers), forms that post here only. Pages whose path carries a token
tighten the Referrer-Policy further (:mod:`social.secrecy`).
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from social.settings import SocialSettings

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",  # static/social.js posts the follow buttons' forms here
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
#: Two years, as browsers' preload lists ask; sent only when the site is served over HTTPS.
HSTS = "max-age=63072000; includeSubDomains"


def add_security_headers(app: Flask, settings: SocialSettings) -> None:
    """Send the headers on every response; believe `X-Forwarded-For`/`-Proto` from as many
    proxies as `TRUSTED_PROXIES` says (none by default: a client could claim any address)."""
    https = settings.social_base_url.scheme == "https"
    if settings.trusted_proxies:
        count = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
