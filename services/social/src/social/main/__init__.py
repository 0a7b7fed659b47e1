"""The pages: home, profiles, following and profile editing."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from social.main import routes  # noqa: E402,F401  (registers the views on bp)
