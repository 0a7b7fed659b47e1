"""`social --help` and `notifier --help` load no web framework, database library or settings: an
operator's every command, and every script, pays for what `--help` imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("flask", "sqlalchemy", "pydantic_settings", "pika", "jinja2", "alembic", "gunicorn")

PROBE = """
import sys
from click.testing import CliRunner
from {module} import main
result = CliRunner().invoke(main, ["--help"])
assert result.exit_code == 0, result.output
print(",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize("module", ["social.cli", "notifier.cli"])
def test_help_imports_nothing_heavy(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} --help imported {done.stdout.strip()}"


def test_social_help_lists_every_command_and_db_still_comes_from_the_app() -> None:
    from click.testing import CliRunner
    from social.cli import COMMANDS, main

    listed = CliRunner().invoke(main, ["--help"]).output
    assert all(name in listed for name in COMMANDS)
    db = CliRunner().invoke(main, ["db", "--help"], env={"DATABASE_URL": "sqlite://"})
    assert db.exit_code == 0 and "upgrade" in db.output
