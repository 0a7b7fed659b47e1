"""The pages: home and explore timelines, profiles, finding people, following and posting."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from social.main import follow, pending, people, routes  # noqa: E402,F401  (registers the views on bp)
