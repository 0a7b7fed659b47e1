"""An announcement survives its notifier: SIGKILLed in the middle and started again, every
recipient gets it, none twice (at most the mails in flight at the kill go again, with the same
Message-ID, which mail clients fold)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.notifier.test_announcements import people, publish_events
from tests.support.announcements import File, announcement
from tests.support.notifier import notifier_env, wait_until_ready
from tests.support.processes import Process
from tests.support.smtp import SmtpServer
from tests.support.tally import REPORTS
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow


def test_a_notifier_killed_mid_announcement_mails_everyone_once_after_restart(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    total = 1500
    recipients = people(total)
    announced = announcement(recipients, files=[File("notes.txt", "text/plain", b"x" * 20_000)])
    smtp_server.handler.delay = 0.002  # the kill lands while mails are on their way
    env = notifier_env(amqp_url, smtp_server, tmp_path, NOTIFIER_SCHEDULER_LEASE="3s", MAIL_TIMEOUT="2",
                       NOTIFIER_BULK_CONCURRENCY="2")
    first = Process("notifier-1", ["notifier", "run"], env, tmp_path).start()
    try:
        wait_until_ready(env)
        publish_events(amqp_url, announced.events)
        smtp_server.wait_for_mails(300, timeout=60)
        first.signal(signal.SIGKILL)
        first.proc.wait(10)  # type: ignore[union-attr]
    finally:
        first.kill()
    killed_at = len(smtp_server.received)
    assert killed_at < total, "the announcement was over before the kill"
    second = Process("notifier-2", ["notifier", "run"], env, tmp_path).start()
    try:
        wait_for(lambda: len({m.rcpt_tos[0] for m in smtp_server.received}) >= total, timeout=120,
                 what="every recipient mailed after the restart")
    finally:
        assert second.stop() == 0, second.output()[-3000:]
    copies = Counter(m.rcpt_tos[0] for m in smtp_server.received)
    ids = Counter((m.rcpt_tos[0], str(m.message["Message-ID"])) for m in smtp_server.received)
    duplicated = sum(n - 1 for n in copies.values())
    REPORTS.append({"scenario": f"notifier SIGKILLed mid-announcement, {killed_at} of {total} sent",
                    "expected": total, "delivered": len(copies), "duplicated": duplicated,
                    "lost": total - len(copies), "unexpected": 0})
    assert set(copies) == {p.email for p in recipients}
    assert len(ids) == total, "a second copy carries the first one's Message-ID"
    assert duplicated <= 2, f"{duplicated} mails went twice (at most the 2 in flight at the kill)"
