"""`social`: serve the web app, run the outbox relay, upgrade the database, replay events,
confirm an address, send an announcement. One module per command (group), imported only when its
command runs: `social --help` lists them from the table below, without loading the web app.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask
    from flask.cli import ScriptInfo

    from social.settings import SocialSettings

#: Every command: the module and name of its click command, and the line `--help` shows. `db` is
#: Flask-Migrate's group, which only the web app can give (so only `social db ...` loads it).
COMMANDS: dict[str, tuple[str | None, str]] = {
    "announce": ("social.cli.announce:announce", "Mail every user who has announcements on; status, cancel."),
    "db": (None, "The database schema: `social db upgrade` brings it to the current version."),
    "events": ("social.cli.events:events", "Events in the outbox: replay them to the broker."),
    "outbox": ("social.cli.outbox:outbox", "The events kept in the outbox, as the privacy rules keep them."),
    "relay": ("social.cli.processes:relay", "Publish outbox events to RabbitMQ and take in the notifier's."),
    "serve": ("social.cli.processes:serve", "Serve the web app and API with gunicorn on SOCIAL_BIND."),
    "users": ("social.cli.users:users", "Accounts, as an operator sees them."),
}


def configured() -> SocialSettings:
    """The settings, read once (or exit status 2 with one line per wrong variable), and logging set up."""
    from microblog_plumbing.logs import configure_logging
    from microblog_plumbing.settings import load_settings

    from social.settings import SocialSettings

    settings = load_settings(SocialSettings, "social")
    configure_logging(settings.log_format, settings.log_level)
    return settings


def web_app(settings: SocialSettings | None = None) -> Flask:
    """The web app, for `serve` and the Flask commands (`social db upgrade`, `social users`)."""
    from social.app import create_app  # the web app's libraries: only the commands that serve it load them

    return create_app(settings or configured())


class _LazyGroup(click.Group):
    """The command group: a command's module is imported only when that command runs, and Flask
    (the web app, for the commands that need its context) only then too."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target = COMMANDS[cmd_name][0]
        if target is None:  # the web app's own (Flask-Migrate's `db`)
            app = _script_info(ctx).load_app()
            return app.cli.get_command(ctx, cmd_name)  # type: ignore[no-any-return]
        module, _, name = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in sorted(COMMANDS.items())])

    def invoke(self, ctx: click.Context) -> object:
        _script_info(ctx)  # what Flask's `with_appcontext` finds the app by
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:  # any command: one line, never a traceback with the SQL
            from microblog_plumbing.databases import database_error

            text = database_error(exc)
            if "no such table" in text or "does not exist" in text:
                click.echo("social: the database has no schema yet (or an old one): run `social db upgrade`",
                           err=True)
                ctx.exit(2)
            click.echo(f"social: the database failed: {text}", err=True)
            ctx.exit(1)


def _script_info(ctx: click.Context) -> ScriptInfo:
    from flask.cli import ScriptInfo

    root = ctx.find_root()
    if not isinstance(root.obj, ScriptInfo):
        root.obj = ScriptInfo(create_app=web_app, set_debug_flag=False, load_dotenv_defaults=False)
    return root.obj


@click.group(cls=_LazyGroup)
def main() -> None:
    """Microblog social service."""
