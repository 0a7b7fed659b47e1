"""`social users confirm NICKNAME`: an operator confirms an address without a mail."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def users() -> None:
    """Accounts, as an operator sees them."""


@users.command("confirm")
@click.argument("nickname")
def confirm_user(nickname: str) -> None:
    """Confirm NICKNAME's address without a mail (lifts a bounce too)."""
    from social import users as accounts
    from social.dbtypes import utcnow
    from social.mail.confirmations import confirm_without_mail

    user = accounts.find_by_nickname(nickname)
    if user is None:
        click.echo(f"social users confirm: no user is called {nickname!r}", err=True)
        sys.exit(1)
    if user.email_confirmed and not user.email_bounced:
        click.echo(f"{user.nickname}'s address {user.email} is confirmed already")
        return
    confirm_without_mail(user, now=utcnow())
    click.echo(f"confirmed {user.nickname}'s address {user.email}"
               + (f" (a change to {user.pending_email} still waits for its link)" if user.pending_email else ""))
