"""`notifier dlq list/show` print what a publisher wrote without letting it drive the terminal, and
the commands that only read or republish need no mail sender."""

from __future__ import annotations

import json
from pathlib import Path

import pika
from notifier.bootstrap import build_topology
from notifier.failures import FAILURE_HEADER, REASON_HEADER

from tests.support.amqp import channel
from tests.support.cli import run_cli
from tests.support.notifier import notifier_env, notifier_settings
from tests.support.smtp import SmtpServer

ESC = "\x1b"
#: Clears the screen, then writes in red: what a hostile header would do to an operator's terminal.
HOSTILE = f"{ESC}[2J{ESC}[31mall good\u202e\x9b31m"


def dead_letter(amqp_url: str, smtp: SmtpServer, tmp_path: Path) -> None:
    """One dead letter whose id, headers and body hold escape sequences."""
    topology = build_topology(notifier_settings(amqp_url, smtp, tmp_path))
    with channel(amqp_url) as ch:
        topology.declare(ch)
        ch.basic_publish("", topology.dead_letter_queue, json.dumps({"note": HOSTILE}).encode(), pika.BasicProperties(
            message_id=f"evil-{ESC}[1m", delivery_mode=2, content_type=f"text/{ESC}]0;title{chr(7)}",
            headers={FAILURE_HEADER: "unreadable.not_cloudevent", REASON_HEADER: HOSTILE, f"x-{ESC}[8m": HOSTILE},
        ), mandatory=True)


def without_sender(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in ("ADMINS", "MAIL_DEFAULT_SENDER")}


def test_dlq_list_and_show_print_escape_sequences_escaped_never_raw(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    dead_letter(amqp_url, smtp_server, tmp_path)
    env = notifier_env(amqp_url, smtp_server, tmp_path)

    listed = run_cli(["notifier", "dlq", "list"], env)
    shown = run_cli(["notifier", "dlq", "show", f"evil-{ESC}[1m"], env)

    assert listed.code == 0, listed.err
    assert shown.code == 0, shown.err
    for output in (listed.out, shown.out):
        assert ESC not in output and "\u202e" not in output and "\x9b" not in output and "\x07" not in output
    assert "\\x1b[2J\\x1b[31mall good" in listed.out
    assert "evil-\\x1b[1m" in shown.out
    assert "content_type: text/\\x1b]0;title\\x07" in shown.out
    assert "x-\\x1b[8m:" in shown.out
    assert '"note": "\\u001b[2J\\u001b[31mall good\\u202e\\x9b31m"' in shown.out


def test_dlq_list_and_show_need_no_mail_sender(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    dead_letter(amqp_url, smtp_server, tmp_path)
    env = without_sender(notifier_env(amqp_url, smtp_server, tmp_path))

    listed = run_cli(["notifier", "dlq", "list"], env)
    shown = run_cli(["notifier", "dlq", "show", f"evil-{ESC}[1m"], env)
    replayed = run_cli(["notifier", "dlq", "replay", "--dry-run"], env)

    assert (listed.code, shown.code, replayed.code) == (0, 0, 0), listed.err + shown.err + replayed.err
    assert listed.out.startswith("1 dead letter(s) in notifier.user-followed.dead")


def test_the_commands_that_send_mail_stop_in_one_line_with_status_2_without_a_sender(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    env = without_sender(notifier_env(amqp_url, smtp_server, tmp_path))
    for command in (["run"], ["send-test", "--to", "ops@example.com"], ["replay", "--since", "1h"]):
        ran = run_cli(["notifier", *command], env, timeout=30)
        assert ran.code == 2, (command, ran.err)
        assert ran.err == ("notifier: configuration error: MAIL_DEFAULT_SENDER: set MAIL_DEFAULT_SENDER or ADMINS: "
                           "mail needs a sender\n"), command
