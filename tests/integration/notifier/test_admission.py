"""What the notifier takes from its queues, on a real broker: events of the publishers it trusts (the
`user_id` RabbitMQ checks), nothing bigger than an event, and its own copies, which name it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from microblog_contracts import EXCHANGE, MAX_EVENT_BYTES
from notifier.bootstrap import build_topology
from notifier.broker import ORIGINAL_USER_HEADER
from notifier.failures import FAILURE_HEADER

from tests.support.amqp import channel, message_count, publish, take_all, user_of, wait_for_messages
from tests.support.cli import run_cli
from tests.support.events import user_followed
from tests.support.notifier import metric_total, notifier_env, notifier_settings, running_notifier
from tests.support.services import rabbit_user
from tests.support.smtp import SmtpServer
from tests.support.wait import wait_for

DLQ = "notifier.user-followed.dead"


@pytest.fixture
def intruder_url(amqp_url: str) -> Iterator[str]:
    """Another AMQP user allowed to publish to social.events, as a leaked or shared login would be."""
    with rabbit_user(amqp_url, name="intruder") as url:
        yield url


@pytest.fixture
def relay_url(amqp_url: str) -> Iterator[str]:
    """The relay's own AMQP user, as compose gives it one."""
    with rabbit_user(amqp_url, name="relay") as url:
        yield url


def declare(amqp_url: str, smtp: SmtpServer, tmp_path: Path) -> None:
    with channel(amqp_url) as ch:
        build_topology(notifier_settings(amqp_url, smtp, tmp_path)).declare(ch)


def test_events_of_an_untrusted_user_or_of_none_are_dead_lettered_at_once_and_never_mailed(
        amqp_url: str, intruder_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    forged, unsigned, good = (user_followed(email=f"{who}@example.com") for who in ("forged", "unsigned", "good"))
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)) as notifier:
        publish(intruder_url, forged.to_json_bytes(), message_id=forged.id)  # user_id: the intruder, checked
        with channel(amqp_url) as ch:  # a publisher that names nobody
            ch.basic_publish(EXCHANGE, "user.followed", unsigned.to_json_bytes(), mandatory=True)
        publish(amqp_url, good.to_json_bytes(), message_id=good.id)
        smtp_server.wait_for_matching(to="good@example.com")
        dead = wait_for_messages(amqp_url, DLQ, 2)
        refused = metric_total(notifier, "notifier_mails_dead_lettered_total", reason="untrusted_publisher")
    assert [m.headers[FAILURE_HEADER] for m in dead] == ["untrusted_publisher"] * 2
    assert sorted(str(m.headers.get(ORIGINAL_USER_HEADER)) for m in dead) == ["None", user_of(intruder_url)]
    assert {m.properties.user_id for m in dead} == {"guest"}, "a dead letter is the notifier's own copy"
    assert refused == 2
    assert not smtp_server.matching(to="forged@example.com") and not smtp_server.matching(to="unsigned@example.com")


def test_the_relays_user_once_trusted_is_mailed_and_its_retried_copy_comes_back_as_the_notifiers_own(
        amqp_url: str, relay_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    event = user_followed(email="bob@example.com")
    deferred: list[str] = []
    smtp_server.handler.responder = lambda env: None if deferred else deferred.append("once") or "451 4.3.0 try later"
    settings = notifier_settings(amqp_url, smtp_server, tmp_path, notifier_retry_delays=["1s"], notifier_retry_jitter=0,
                                 notifier_trusted_publishers=[user_of(relay_url)])
    with running_notifier(settings):
        publish(relay_url, event.to_json_bytes(), message_id=event.id)
        (retried,) = wait_for_messages(amqp_url, "notifier.user-followed.retry.1000ms", 1, timeout=10)
        # Taken out above to look at it: put back what the notifier would have got.
        with channel(amqp_url) as ch:
            ch.basic_publish("", "notifier.user-followed", retried.body, retried.properties)
        smtp_server.wait_for_matching(to="bob@example.com")
    assert retried.properties.user_id == "guest"
    assert retried.headers[ORIGINAL_USER_HEADER] == user_of(relay_url)
    assert message_count(amqp_url, DLQ) == 0


def test_a_body_past_the_largest_event_is_dead_lettered_as_it_arrives_not_after_the_mail_ahead_of_it(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    slow = user_followed(email="slow@example.com")
    smtp_server.handler.delay = 5.0  # the only SMTP worker is busy with `slow` for that long
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path, mail_max_connections=1, mail_timeout=20)):
        publish(amqp_url, slow.to_json_bytes(), message_id=slow.id)
        wait_for(lambda: message_count(amqp_url, "notifier.user-followed") == 0, what="the slow event taken")
        publish(amqp_url, b"[" * (MAX_EVENT_BYTES + 1), message_id="huge-1")
        (dead,) = wait_for_messages(amqp_url, DLQ, 1, timeout=3)
        assert not smtp_server.received, "dead-lettered while the mail ahead of it was still being sent"
        smtp_server.wait_for_mails(1, timeout=15)
    assert dead.headers[FAILURE_HEADER] == "unreadable.too_large"


def test_a_stream_replay_dead_letters_an_untrusted_event_and_a_dlq_replay_leaves_it_until_vouched_for(
        amqp_url: str, intruder_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    declare(amqp_url, smtp_server, tmp_path)
    forged, good = user_followed(email="forged@example.com"), user_followed(email="good@example.com")
    publish(intruder_url, forged.to_json_bytes(), message_id=forged.id)
    publish(amqp_url, good.to_json_bytes(), message_id=good.id)
    take_all(amqp_url, "notifier.user-followed")  # no live notifier: the event log is what is replayed
    env = notifier_env(amqp_url, smtp_server, tmp_path)

    replayed = run_cli(["notifier", "replay", "--since", "10m"], env)
    (letter,) = wait_for_messages(amqp_url, DLQ, 1)
    with channel(amqp_url) as ch:  # put it back for the dlq commands
        ch.basic_publish("", DLQ, letter.body, letter.properties)
    left = run_cli(["notifier", "dlq", "replay"], env)
    vouched = run_cli(["notifier", "dlq", "replay", "--reason", "untrusted_publisher"], env)

    assert replayed.code == 0, replayed.err
    assert "mailed 1" in replayed.out and "failed 1" in replayed.out
    assert [m.rcpt_tos for m in smtp_server.received] == [["good@example.com"]]
    assert letter.headers[FAILURE_HEADER] == "untrusted_publisher"
    assert left.code == 0 and left.out.startswith("replayed 0 dead letter(s)"), left.out
    assert "left 1 untrusted_publisher letter(s) dead-lettered" in left.out
    assert vouched.code == 0 and vouched.out.startswith("replayed 1 dead letter(s)"), vouched.out
    (back,) = take_all(amqp_url, "notifier.user-followed")
    assert back.properties.user_id == "guest" and back.headers[ORIGINAL_USER_HEADER] == user_of(intruder_url)


def test_a_full_work_queue_refuses_further_publishes_so_the_publisher_keeps_them_and_nothing_is_dropped(
        amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    with channel(amqp_url) as ch:
        build_topology(notifier_settings(amqp_url, smtp_server, tmp_path, notifier_queue_max_bytes=100_000)).declare(ch)
    body = b"x" * 40_000  # no notifier consumes here: only the queue's bytes matter
    accepted: list[str] = []
    for n in range(10):
        try:
            publish(amqp_url, body, message_id=f"m{n}")
        except pika.exceptions.NackError:  # the relay's confirm fails the same way: it keeps the event
            break
        accepted.append(f"m{n}")
    # A quorum queue checks the bound before it takes a message, so it may go one message past it.
    assert 2 <= len(accepted) <= 3, accepted
    assert [m.properties.message_id for m in take_all(amqp_url, "notifier.user-followed")] == accepted
