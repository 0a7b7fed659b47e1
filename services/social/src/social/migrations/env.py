"""Alembic's entry point, run by Flask-Migrate inside an app made by `create_app`.

Batch mode is always on so that ALTERs work on SQLite too (it copies the table).
"""

from __future__ import annotations

import logging
from logging.config import fileConfig
from typing import Any

import social.announcements.model
import social.limits
import social.mail.history
import social.mail.tokens
import social.models
import social.outbox.models
import social.posts
import social.sessions
from alembic import context
from flask import current_app

config = context.config
# Keep the logging the process set up (structlog from `social`); configure only a bare one.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
target_metadata = social.models.db.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`flask db upgrade --sql`) instead of running it."""
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_revision(ctx: Any, revision: Any, directives: list[Any]) -> None:
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revision)
    conf_args.setdefault("render_as_batch", True)
    conf_args.setdefault("compare_type", True)

    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
