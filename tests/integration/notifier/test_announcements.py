"""Announcements through a real broker, SMTP server and ledger: everyone mailed once with the
attachment intact, urgent mail first during a large one, MAIL_RATE_LIMIT held by two replicas."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from microblog_contracts import EXCHANGE, MailProfile
from microblog_contracts.envelope import Envelope
from pydantic import BaseModel

from tests.support.amqp import channel, event_properties
from tests.support.announcements import File, announcement
from tests.support.events import profile, reset_requested
from tests.support.notifier import metric_total, notifier_settings, running_notifier
from tests.support.smtp import ReceivedMail, SmtpServer
from tests.support.wait import wait_for


def publish_events(amqp_url: str, events: Sequence[Envelope[BaseModel]]) -> None:
    """Publish as social's relay does: persistent, mandatory, confirmed, the type as routing key."""
    with channel(amqp_url) as ch:
        for event in events:
            ch.basic_publish(EXCHANGE, event.type, event.to_json_bytes(), event_properties(amqp_url, event.id),
                             mandatory=True)


def people(count: int, start: int = 1) -> list[MailProfile]:
    return [profile(user_id=i, nickname=f"user{i}", email=f"user{i}@example.org") for i in range(start, start + count)]


def announced_to(mails: Sequence[ReceivedMail]) -> Counter[str]:
    return Counter(m.rcpt_tos[0] for m in mails if "announcement@" in str(m.message["Message-ID"]))


def test_an_announcement_reaches_everyone_once_with_its_attachment_intact(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    data = hashlib.sha256(b"seed").digest() * 8192  # 256 KiB that compress badly
    recipients = people(150)
    announced = announcement(recipients, files=[File("年度报告.pdf", "application/pdf", data)])
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish_events(amqp_url, announced.events)
        wait_for(lambda: len(smtp_server.received) >= len(recipients), timeout=60, what="every announcement mail")
        wait_for(lambda: metric_total(notifier, "notifier_mails_sent_total", kind="announcement") == len(recipients),
                 timeout=10, what="the sent metric")
    counts = announced_to(smtp_server.received)
    assert counts == {p.email: 1 for p in recipients}
    for mail in smtp_server.received[:5]:
        (attachment,) = mail.message.iter_attachments()
        assert attachment.get_filename() == "年度报告.pdf"
        assert attachment.get_payload(decode=True) == data


def test_a_password_reset_goes_out_in_the_middle_of_a_large_announcement(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    total = 3000
    announced = announcement(people(total))
    settings = notifier_settings(amqp_url, smtp_server, tmp_path, notifier_bulk_concurrency=2)
    with running_notifier(settings):
        publish_events(amqp_url, announced.events)
        smtp_server.wait_for_mails(300, timeout=60)
        reset = reset_requested(profile(user_id=999_999, email="locked-out@example.org"))
        publish_events(amqp_url, [reset])
        smtp_server.wait_for_matching(to="locked-out@example.org", timeout=30)
        received = smtp_server.received
        position = next(i for i, m in enumerate(received) if m.rcpt_tos == ["locked-out@example.org"])
        wait_for(lambda: len(smtp_server.received) >= total + 1, timeout=120, what="the rest of the announcement")
    # The reset did not wait for the announcement: most of it went after the reset.
    assert position < total / 2, f"the reset was mail {position} of {total + 1}"
    assert sum(announced_to(smtp_server.received).values()) == total


@pytest.mark.slow
def test_two_replicas_keep_to_mail_rate_limit_over_a_minute(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    rate = 10.0
    announced = announcement(people(2000))
    first = notifier_settings(amqp_url, smtp_server, tmp_path, mail_rate_limit=rate, notifier_bulk_concurrency=2,
                              notifier_http_bind="127.0.0.1:0")
    with running_notifier(first), running_notifier(first.model_copy()):
        publish_events(amqp_url, announced.events)
        smtp_server.wait_for_mails(20, timeout=60)  # both replicas at work
        start_count, started = len(smtp_server.received), time.monotonic()
        time.sleep(60)
        sent = len(smtp_server.received) - start_count
        elapsed = time.monotonic() - started
    expected = rate * elapsed
    assert abs(sent - expected) <= expected * 0.10, f"{sent} mails in {elapsed:.1f} s at {rate}/s"
    assert len(set(announced_to(smtp_server.received).values())) == 1  # nobody twice
