"""`notifier`: the operator's commands. Each lives in a module of its own in this package and
imports what it needs when it runs, so `notifier --help` stays quick."""

from __future__ import annotations

import click

from notifier.cli.dlq import dlq
from notifier.cli.replay import replay
from notifier.cli.run import run
from notifier.cli.send_test import send_test
from notifier.cli.skipped import skipped


@click.group()
def main() -> None:
    """Microblog notifier: sends the mail that social's events call for."""


for command in (run, send_test, dlq, replay, skipped):
    main.add_command(command)
