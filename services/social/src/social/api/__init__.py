"""The JSON API under `/api`: token auth, JSON errors, and an OpenAPI document of itself."""

from flask import Blueprint

from social.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
# Bearer tokens are not sent by browsers on their own, so cross-site forgery has nothing to ride.
csrf.exempt(bp)

from social.api import following, links, me, openapi, people, posts, tokens, users  # noqa: E402,F401  (register views)
