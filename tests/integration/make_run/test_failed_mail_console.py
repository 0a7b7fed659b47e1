"""What `make run`'s console shows of a mail that fails: the notifier as `make run` starts it
(LOG_FORMAT=console, output piped), one line per attempt, the recipient's domain only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import events
from tests.support.amqp import publish
from tests.support.notifier import http_status, notifier_env
from tests.support.processes import Process
from tests.support.smtp import SmtpServer
from tests.support.wait import wait_for

ADDRESS = "carol.secret@example.org"


@pytest.mark.parametrize(("reply", "outcomes"), [
    ("550 5.1.1 mailbox unavailable", ["dead"]),
    ("451 4.3.0 try again later", ["retry", "dead"]),
])
def test_each_attempt_of_a_failing_mail_is_one_console_line_with_the_domain_only(
        reply: str, outcomes: list[str], amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    smtp_server.handler.responder = lambda envelope: reply if ADDRESS in envelope.rcpt_tos else None
    env = notifier_env(amqp_url, smtp_server, tmp_path, LOG_FORMAT="console", NOTIFIER_MAX_ATTEMPTS="2",
                       NOTIFIER_RETRY_DELAYS="200ms")
    notifier = Process("notifier", ["notifier", "run"], env, tmp_path).start()
    try:
        wait_for(lambda: http_status(f"http://{env['NOTIFIER_HTTP_BIND']}/readyz") == 200, timeout=30,
                 what="the notifier")
        event = events.confirmation_requested(events.profile(email=ADDRESS, confirmed=False))
        publish(amqp_url, event.model_dump_json().encode(), message_id=str(event.id), routing_key=event.type)
        wait_for(lambda: "outcome=dead" in notifier.output(), timeout=30, what="the mail to be given up")
    finally:
        assert notifier.stop() == 0
    output = notifier.output()
    about_it = [line for line in output.splitlines() if str(event.id) in line]
    assert [line.split("outcome=")[1].split()[0] for line in about_it] == outcomes
    assert all("recipient_domain=example.org" in line and reply in line for line in about_it)
    assert "carol.secret" not in output
    assert "Traceback" not in output and "\x1b" not in output
