"""A failure has one name everywhere an operator looks: the dead-letter header, the ADMINS alert,
the metric and `notifier dlq list` say the same thing for the same message."""

from __future__ import annotations

import re
from pathlib import Path

from notifier.failures import FAILURE_HEADER, REASON_HEADER

from tests.support.amqp import publish, take_all, wait_for_messages
from tests.support.cli import run_cli
from tests.support.events import user_followed
from tests.support.notifier import metric_total, notifier_env, notifier_settings, running_notifier
from tests.support.smtp import SmtpServer

DLQ = "notifier.user-followed.dead"


def test_an_outage_driven_to_the_give_up_point_is_named_smtp_unavailable_by_all_three(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    event = user_followed(email="bob@example.com")
    # The server defers the follow's recipient, as during an outage, and takes the admins' alert.
    smtp_server.handler.responder = lambda env: (
        "421 4.3.2 service shutting down" if "bob@example.com" in env.rcpt_tos else None)
    settings = notifier_settings(amqp_url, smtp_server, tmp_path, notifier_max_attempts=3,
                                 notifier_retry_delays=["100ms"], notifier_alert_interval="500ms",
                                 admins=["ops@example.com"])
    with running_notifier(settings) as notifier:
        publish(amqp_url, event.to_json_bytes(), message_id=event.id)
        (alert,) = smtp_server.wait_for_mails(1, timeout=30)
        dead_lettered = metric_total(notifier, "notifier_mails_dead_lettered_total", kind="follower_email",
                                     reason="smtp_unavailable")
        listed = run_cli(["notifier", "dlq", "list"], notifier_env(amqp_url, smtp_server, tmp_path))
        shown = run_cli(["notifier", "dlq", "show", event.id], notifier_env(amqp_url, smtp_server, tmp_path))
    (letter,) = wait_for_messages(amqp_url, DLQ, 1)
    assert letter.headers[FAILURE_HEADER] == "smtp_unavailable"
    assert letter.headers[REASON_HEADER] == "gave up after 3 attempts: 421 4.3.2 service shutting down"
    assert alert.rcpt_tos == ["ops@example.com"]
    assert re.search(r"^\s+1\s+smtp_unavailable\s*$", alert.message.get_content(), re.MULTILINE)
    assert dead_lettered == 1
    assert listed.code == 0, listed.err
    assert re.search(r"^\s+1\s+smtp_unavailable$", listed.out, re.MULTILINE), listed.out
    assert "failure:       smtp_unavailable" in shown.out
    assert "gave up after 3 attempts" in shown.out
    assert take_all(amqp_url, DLQ) == []
