"""The notifier on a real RabbitMQ vhost, a real SMTP server and a real ledger file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from notifier import consumer
from notifier.failures import ATTEMPTS_HEADER, FAILURE_HEADER, FIRST_FAILURE_HEADER, LAST_FAILURE_HEADER, REASON_HEADER
from notifier.ledger import DeliveryKey, Ledger

from tests.support.amqp import message_count, publish, publish_many, wait_for_messages, wait_until_drained
from tests.support.events import user_followed
from tests.support.notifier import metric_total, notifier_settings, running_notifier
from tests.support.smtp import SmtpServer
from tests.support.wait import wait_for

QUEUE = "notifier.user-followed"
DLQ = "notifier.user-followed.dead"


def test_a_followed_event_becomes_one_mail_and_is_acked(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    event = user_followed(follower="alice", followed="bob", email="bob@example.com")
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish(amqp_url, event.to_json_bytes(), message_id=event.id)
        (mail,) = smtp_server.wait_for_mails(1)
        wait_until_drained(amqp_url, QUEUE)
        assert notifier.ledger.flush(5)
        assert notifier.ledger.lookup(DeliveryKey(event.id, "bob@example.com", "follower_email")).delivered
    assert mail.rcpt_tos == ["bob@example.com"]
    assert mail.message["Subject"] == "[microblog] alice is now following you!"
    assert mail.message["Message-ID"] == f"<{event.id}.follower_email@example.com>"


def test_the_same_event_delivered_twice_sends_one_mail(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    event = user_followed()
    marker = user_followed()
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish_many(amqp_url, [(event.id, event.to_json_bytes())] * 3)
        publish(amqp_url, marker.to_json_bytes(), message_id=marker.id)
        smtp_server.wait_for_mails(2)
        wait_for(lambda: metric_total(notifier, "notifier_mails_folded_duplicates_total") == 2,
                 what="two duplicates folded")
    assert sorted(m.message["Message-ID"] for m in smtp_server.received) == sorted(
        f"<{e.id}.follower_email@example.com>" for e in (event, marker))


def test_a_malformed_event_is_dead_lettered_and_the_next_good_one_delivered(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    good = user_followed()
    bad_schema = json.loads(user_followed().to_json_bytes())
    bad_schema["data"]["followed"]["email"] = "not an address"
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)):
        publish(amqp_url, b"\x00not json at all", message_id="garbage-1")
        publish(amqp_url, json.dumps(bad_schema).encode(), message_id=bad_schema["id"])
        publish(amqp_url, good.to_json_bytes(), message_id=good.id)
        smtp_server.wait_for_mails(1)
        dead = wait_for_messages(amqp_url, DLQ, 2)
    failures = sorted((str(m.headers[FAILURE_HEADER]), str(m.headers[REASON_HEADER])) for m in dead)
    assert failures[0][0] == "unreadable.invalid_data"
    assert failures[0][1].startswith("data.followed.email")
    assert failures[1][0] == "unreadable.not_json"
    garbage = next(m for m in dead if m.properties.message_id == "garbage-1")
    assert garbage.body == b"\x00not json at all"
    assert garbage.headers[ATTEMPTS_HEADER] == 1
    assert garbage.headers["x-original-routing-key"] == "user.followed"


def test_a_refused_recipient_is_dead_lettered_at_once_with_the_reason(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    refused = user_followed(email="gone@example.com")
    fine = user_followed(email="here@example.com")
    smtp_server.handler.responder = lambda env: (
        "550 5.1.1 mailbox unavailable" if "gone@example.com" in env.rcpt_tos else None)
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish_many(amqp_url, [(refused.id, refused.to_json_bytes()), (fine.id, fine.to_json_bytes())])
        smtp_server.wait_for_mails(1)
        (dead,) = wait_for_messages(amqp_url, DLQ, 1)
        wait_for(lambda: notifier.alerts.pending or notifier.alerts.mails_sent, what="the alert to be counted")
    assert dead.properties.message_id == refused.id
    assert dead.headers[FAILURE_HEADER] == "recipient_refused"
    assert "550 5.1.1 mailbox unavailable" in str(dead.headers[REASON_HEADER])
    assert dead.body == refused.to_json_bytes()


def test_a_transient_failure_is_retried_through_a_delay_queue_and_then_delivered(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    event = user_followed()
    answers = iter(["451 4.3.0 try again later", "421 4.4.2 busy"])
    smtp_server.handler.responder = lambda env: next(answers, None)
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish(amqp_url, event.to_json_bytes(), message_id=event.id)
        (mail,) = smtp_server.wait_for_mails(1, timeout=20)
        # The 451 went through a delay queue; the 421 (a server closing sessions: too many) was tried
        # again at once on the work queue, the SMTP concurrency halved (notifier.concurrency).
        assert metric_total(notifier, "notifier_mails_retried_total", reason="smtp_unavailable") == 1
    assert mail.message["Message-ID"] == f"<{event.id}.follower_email@example.com>"
    assert message_count(amqp_url, DLQ) == 0


def test_a_message_out_of_attempts_is_dead_lettered_with_its_history(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    event = user_followed()
    smtp_server.handler.responder = lambda env: "451 4.3.0 still down"
    settings = notifier_settings(amqp_url, smtp_server, tmp_path, notifier_max_attempts=3,
                                 notifier_retry_delays=["100ms"])
    with running_notifier(settings):
        publish(amqp_url, event.to_json_bytes(), message_id=event.id)
        (dead,) = wait_for_messages(amqp_url, DLQ, 1, timeout=20)
    assert dead.headers[ATTEMPTS_HEADER] == 3
    assert dead.headers[FAILURE_HEADER] == "smtp_unavailable"
    assert str(dead.headers[REASON_HEADER]).startswith("gave up after 3 attempts: 451 4.3.0 still down")
    assert dead.headers[FIRST_FAILURE_HEADER] < dead.headers[LAST_FAILURE_HEADER]
    assert smtp_server.received == []


def test_a_refollow_inside_the_cooldown_is_not_mailed_again(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    first = user_followed(follower_id=7, followed_id=8)
    again = user_followed(follower_id=7, followed_id=8)
    other = user_followed(follower_id=9, followed_id=8)
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish(amqp_url, first.to_json_bytes(), message_id=first.id)
        smtp_server.wait_for_mails(1)
        publish_many(amqp_url, [(again.id, again.to_json_bytes()), (other.id, other.to_json_bytes())])
        smtp_server.wait_for_mails(2)
        wait_for(lambda: metric_total(notifier, "notifier_mails_skipped_total", reason="cooldown") == 1,
                 what="the re-follow to be skipped")
    assert {m.message["Message-ID"] for m in smtp_server.received} == {
        f"<{first.id}.follower_email@example.com>", f"<{other.id}.follower_email@example.com>"}


def test_the_dead_letter_alert_tells_the_admins_how_many_and_why(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = notifier_settings(amqp_url, smtp_server, tmp_path, notifier_alert_interval="300ms",
                                 admins=["ops@example.com", "root@example.com"])
    with running_notifier(settings):
        for n in range(3):
            publish(amqp_url, b"{}", message_id=f"broken-{n}")
        (alert,) = smtp_server.wait_for_mails(1)
        wait_for_messages(amqp_url, DLQ, 3)
    assert alert.rcpt_tos == ["ops@example.com", "root@example.com"]
    assert alert.message["Subject"] == "[microblog] 3 notification(s) dead-lettered"
    assert "3  unreadable.not_cloudevent" in alert.message.get_content()


def test_a_worker_left_idle_closes_its_smtp_session_and_gives_back_its_ledger_connection(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer, "IDLE_SESSION_SECONDS", 0.3)
    released: list[str] = []
    release = Ledger.release_reader

    def counted(ledger: Ledger) -> None:
        released.append(threading.current_thread().name)
        release(ledger)

    monkeypatch.setattr(Ledger, "release_reader", counted)
    event = user_followed()
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish(amqp_url, event.to_json_bytes(), message_id=event.id)
        smtp_server.wait_for_mails(1)
        wait_for(lambda: smtp_server.handler.open_sessions == 0, what="the idle session closed")
        wait_for(lambda: bool(released), what="the idle worker's ledger connection given back")
        # and the worker works again after its rest, on a new session and connection
        again = user_followed()
        publish(amqp_url, again.to_json_bytes(), message_id=again.id)
        smtp_server.wait_for_mails(2)
        assert notifier.ledger.flush(5)
    assert smtp_server.handler.sessions >= 2
