"""The broker users compose makes (deploy/rabbitmq/users.sh), on a real RabbitMQ: the relay and the
notifier, each with only its own permissions, carry a follow to a mail and its record back to
social; the notifier's operator commands work as its user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

from tests.support.amqp import user_of
from tests.support.cli import run_cli
from tests.support.follows import follow_by_id, seed_users
from tests.support.services import rabbit_user
from tests.support.smtp import SmtpServer
from tests.support.social_app import build_app
from tests.support.system import running_system
from tests.support.wait import wait_for

USERS_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "users.sh"
_PERMISSIONS = re.compile(r"set_permissions --vhost / (\w+) \\\n\s+'([^']*)' \\\n\s+'([^']*)' \\\n\s+'([^']*)'")


def compose_permissions() -> dict[str, dict[str, str]]:
    """users.sh's permissions for each user: configure, write and read regexes."""
    return {user: {"configure": configure, "write": write, "read": read}
            for user, configure, write, read in _PERMISSIONS.findall(USERS_SCRIPT.read_text())}


def broker_users(amqp_url: str, stack: ExitStack) -> Iterator[str]:
    for name, permissions in sorted(compose_permissions().items(), reverse=True):  # relay, notifier
        yield stack.enter_context(rabbit_user(amqp_url, name=name, **permissions))


def history_rows(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM mail_history")).scalar_one())
    finally:
        engine.dispose()


def test_with_compose_users_a_follow_is_mailed_and_recorded_and_the_notifiers_commands_work(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    assert set(compose_permissions()) == {"relay", "notifier"}
    with ExitStack() as stack:
        relay_url, notifier_url = broker_users(amqp_url, stack)
        with running_system(database_url=database_url, amqp_url=relay_url, relay_amqp_url=relay_url,
                            notifier_amqp_url=notifier_url, smtp=smtp_server, workdir=tmp_path,
                            notifier_env={"NOTIFIER_TRUSTED_PUBLISHERS": user_of(relay_url)}) as system:
            app = build_app(database_url, migrate=False)
            alice, bob = seed_users(app, 2)
            assert follow_by_id(app, alice, bob)
            (mail,) = smtp_server.wait_for_mails(1, timeout=30)
            wait_for(lambda: history_rows(database_url) >= 1, timeout=30, what="the mail in social's history")
            listed = run_cli(["notifier", "dlq", "list"], system.notifier_env)
            replayed = run_cli(["notifier", "replay", "--since", "10m"], system.notifier_env)
    assert mail.rcpt_tos == ["u1@example.com"]
    assert listed.code == 0 and listed.out.startswith("0 dead letter(s)"), listed.err
    assert replayed.code == 0 and "folded 1" in replayed.out, replayed.err + replayed.out
