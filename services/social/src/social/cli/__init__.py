"""`social`: serve the web app, run the outbox relay, upgrade the database, replay events,
confirm an address. One module per command (group); each imports only what it needs.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup
from microblog_plumbing.logs import configure_logging
from microblog_plumbing.settings import load_settings

from social.settings import SocialSettings


def configured() -> SocialSettings:
    """The settings, read once (or exit status 2 with one line per wrong variable), and logging set up."""
    settings = load_settings(SocialSettings, "social")
    configure_logging(settings.log_format, settings.log_level)
    return settings


def web_app(settings: SocialSettings | None = None) -> Flask:
    """The web app, for `serve` and the Flask commands (`social db upgrade`, `social users`)."""
    from social.app import create_app  # the web app's libraries: only the commands that serve it load them

    return create_app(settings or configured())


@click.group(cls=FlaskGroup, create_app=web_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Microblog social service."""


from social.cli import announce, events, outbox, processes, users  # noqa: E402,F401  (register the commands)
